"""XCom of a run, kept in a ConfigMap owned by the WorkflowRun (deleted with it), at most
`limit` bytes per run (the MWAA Serverless quota: 200 KB)."""

from __future__ import annotations

import base64
import json
from typing import Any

from updraft.k8s.resources import Kube, NotFound


class XComQuotaExceeded(Exception):
    pass


def configmap_name(run: str) -> str:
    return f"{run}-xcom"[:253]


def entry_key(task_id: str, key: str) -> str:
    """ConfigMap keys allow [-._a-zA-Z0-9]; encode anything else."""
    raw = f"{task_id}.{key}"
    if all(c.isalnum() or c in "-._" for c in raw):
        return raw
    return "b64." + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class XComStore:
    def __init__(self, kube: Kube, limit: int = 200 * 1024) -> None:
        self.kube, self.limit = kube, limit

    async def get(self, namespace: str, run: str, task_id: str, key: str) -> tuple[bool, Any]:
        try:
            cm = await self.kube.get("ConfigMap", configmap_name(run), namespace)
        except NotFound:
            return False, None
        data = cm.get("data") or {}
        k = entry_key(task_id, key)
        return (True, json.loads(data[k])) if k in data else (False, None)

    async def all_for(self, namespace: str, run: str) -> dict[str, str]:
        cm = await self.kube.get_or_none("ConfigMap", configmap_name(run), namespace)
        return dict((cm or {}).get("data") or {})

    async def put(self, namespace: str, run: str, run_uid: str, task_id: str, key: str, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"))
        k = entry_key(task_id, key)
        cm = await self.kube.get_or_none("ConfigMap", configmap_name(run), namespace)
        data = dict((cm or {}).get("data") or {})
        data[k] = text
        size = sum(len(a.encode()) + len(b.encode()) for a, b in data.items())
        if size > self.limit:
            raise XComQuotaExceeded(f"XCom of run {run} would be {size} bytes; the limit is {self.limit} bytes per run")
        if cm is None:
            await self.kube.create({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": configmap_name(run), "namespace": namespace,
                                                 "labels": {"app.kubernetes.io/managed-by": "updraft"},
                                                 "ownerReferences": [{"apiVersion": "updraft.dev/v1alpha1",
                                                                      "kind": "WorkflowRun", "name": run,
                                                                      "uid": run_uid}]},
                                    "data": {k: text}}, namespace)
            created = await self.kube.get("ConfigMap", configmap_name(run), namespace)
            if (created.get("data") or {}).get(k) == text:
                return
        await self.kube.patch("ConfigMap", configmap_name(run), namespace, {"data": {k: text}})
