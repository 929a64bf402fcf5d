"""A stand-in for `updraft.k8s.resources.Kube` over a dict, for the hardening and fuzz tests: it
keeps what matters to them of the API server's contract (NotFound, create-if-absent, JSON merge
patches with resourceVersion preconditions answered with Conflict, label-selected lists) and
yields to the event loop between steps, so concurrent requests interleave as they do against a
real server. A stand-in, not the apiserver, because these properties are about how the HTTP
layers treat hostile input, and the unit tier has no cluster; the quota under concurrency is
checked against the real apiserver in tests/integration/test_taskapi_hardening.py."""

from __future__ import annotations

import asyncio
import copy
import itertools
import uuid
from typing import Any

from updraft.k8s.resources import Conflict, Created, NotFound

_versions = itertools.count(1)


class StandInKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def put(self, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {}).update(namespace=namespace, resourceVersion=str(next(_versions)))
        obj["metadata"].setdefault("uid", str(uuid.uuid4()))
        obj["metadata"].setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        obj["metadata"].setdefault("generation", 1)
        self.objects[(obj["kind"], namespace, obj["metadata"]["name"])] = obj
        return obj

    async def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        await asyncio.sleep(0)
        found = self.objects.get((kind, namespace or "", name))
        if found is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        return copy.deepcopy(found)

    async def get_or_none(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return await self.get(kind, name, namespace)
        except NotFound:
            return None

    async def create(self, body: dict[str, Any], namespace: str | None = None) -> Created:
        await asyncio.sleep(0)
        key = (body["kind"], namespace or "", body["metadata"]["name"])
        if key in self.objects:
            return Created(copy.deepcopy(self.objects[key]), existed=True)
        return Created(self.put(body, namespace or ""), existed=False)

    async def list(self, kind: str, namespace: str | None = None,
                   labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items())
                if k == kind and (namespace is None or ns == namespace)
                and all((o["metadata"].get("labels") or {}).get(a) == b for a, b in (labels or {}).items())]

    async def patch(self, kind: str, name: str, namespace: str | None, patch: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        obj = self.objects.get((kind, namespace or "", name))
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        merged = _merge(obj, patch)
        merged["metadata"]["resourceVersion"] = str(next(_versions))
        merged["metadata"]["generation"] = int(obj["metadata"].get("generation") or 1) + 1
        self.objects[(kind, namespace or "", name)] = merged
        return copy.deepcopy(merged)

    async def patch_status(self, kind: str, name: str, namespace: str | None, status: dict[str, Any]) -> dict[str, Any]:
        return await self.patch(kind, name, namespace, {"status": status})

    async def delete(self, kind: str, name: str, namespace: str | None = None, grace_seconds: int | None = None) -> bool:
        await asyncio.sleep(0)
        return self.objects.pop((kind, namespace or "", name), None) is not None


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out
