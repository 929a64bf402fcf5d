"""XCom of a run, kept in a ConfigMap owned by the WorkflowRun (deleted with it), at most
`limit` bytes per run (the MWAA Serverless quota: 200 KB).

The quota holds under concurrency: every write is a read, a size check and a merge patch carrying
the resourceVersion that was read, so the API server refuses it (409) if anything changed in
between, and the write starts again from a fresh read. Two pushes that together exceed the
quota cannot both land."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from updraft.k8s.resources import Conflict, Kube, NotFound
from updraft.model import names

WRITE_ATTEMPTS = 20


class XComQuotaExceeded(Exception):
    pass


class XComBusy(Exception):
    """The XCom ConfigMap kept changing under this write; the caller may retry."""


class XComNotOurs(Exception):
    """The XCom ConfigMap belongs to another run object of the same name (an old one being deleted)."""


def size_of(data: Mapping[str, str]) -> int:
    """The bytes the quota counts: every key and value, UTF-8."""
    return sum(len(a.encode()) + len(b.encode()) for a, b in data.items())


def _owner_uids(cm: Mapping[str, Any]) -> set[str]:
    return {ref.get("uid", "") for ref in cm.get("metadata", {}).get("ownerReferences") or []}


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
        name = names.xcom_configmap_name(run)
        for _ in range(WRITE_ATTEMPTS):
            cm = await self.kube.get_or_none("ConfigMap", name, namespace)
            if cm is not None and run_uid not in _owner_uids(cm):
                raise XComNotOurs(f"the XCom of run {run} belongs to an earlier run of that name")
            data = dict((cm or {}).get("data") or {})
            data[k] = text
            size = size_of(data)
            if size > self.limit:
                raise XComQuotaExceeded(f"XCom of run {run} would be {size} bytes; the limit is {self.limit} bytes "
                                        "per run")
            if cm is None:
                created = await self.kube.create({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": namespace,
                                 "labels": {names.LABEL_MANAGED: names.MANAGED_BY},
                                 "ownerReferences": [names.owner_ref("WorkflowRun", run, run_uid)]},
                    "data": {k: text}}, namespace)
                if not created.existed:
                    return
                continue  # another push made it first: read it and check the quota again
            try:
                await self.kube.patch("ConfigMap", name, namespace,
                                      {"metadata": {"resourceVersion": cm["metadata"]["resourceVersion"]},
                                       "data": {k: text}})
                return
            except Conflict:
                continue  # changed since it was read
            except NotFound:
                continue
        raise XComBusy(f"the XCom of run {run} changed under {WRITE_ATTEMPTS} tries of this write; try again")
