"""XCom of a run, kept in a ConfigMap owned by the WorkflowRun (deleted with it), at most
`limit` bytes per run (the MWAA Serverless quota: 200 KB)."""

from __future__ import annotations

import json
from typing import Any

from updraft.k8s.resources import Kube, NotFound
from updraft.model import names


class XComQuotaExceeded(Exception):
    pass


class XComStore:
    def __init__(self, kube: Kube, limit: int = 200 * 1024) -> None:
        self.kube, self.limit = kube, limit

    async def get(self, namespace: str, run: str, task_id: str, key: str) -> tuple[bool, Any]:
        try:
            cm = await self.kube.get("ConfigMap", names.xcom_configmap_name(run), namespace)
        except NotFound:
            return False, None
        data = cm.get("data") or {}
        k = names.xcom_entry_key(task_id, key)
        return (True, json.loads(data[k])) if k in data else (False, None)

    async def put(self, namespace: str, run: str, run_uid: str, task_id: str, key: str, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"))
        k = names.xcom_entry_key(task_id, key)
        cm = await self.kube.get_or_none("ConfigMap", names.xcom_configmap_name(run), namespace)
        data = dict((cm or {}).get("data") or {})
        data[k] = text
        size = sum(len(a.encode()) + len(b.encode()) for a, b in data.items())
        if size > self.limit:
            raise XComQuotaExceeded(f"XCom of run {run} would be {size} bytes; the limit is {self.limit} bytes per run")
        if cm is None:
            await self.kube.create({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": names.xcom_configmap_name(run), "namespace": namespace,
                                                 "labels": {names.LABEL_MANAGED: names.MANAGED_BY},
                                                 "ownerReferences": [names.owner_ref("WorkflowRun", run, run_uid)]},
                                    "data": {k: text}}, namespace)
            created = await self.kube.get("ConfigMap", names.xcom_configmap_name(run), namespace)
            if (created.get("data") or {}).get(k) == text:
                return
        await self.kube.patch("ConfigMap", names.xcom_configmap_name(run), namespace, {"data": {k: text}})
