"""A stand-in for `updraft.k8s.resources.Kube` over a dict, for the task API's unit tests: it keeps
what matters to them of the API server's contract (NotFound, create-if-absent, resourceVersion
preconditions on merge patches answered with Conflict) and yields to the event loop between
steps, so concurrent requests interleave as they do against a real server. The same properties
are checked against the real apiserver in tests/integration/test_taskapi_hardening.py."""

from __future__ import annotations

import asyncio
import copy
import itertools
from typing import Any

from updraft.k8s.resources import Conflict, Created, NotFound

_versions = itertools.count(1)


class StandInKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def put(self, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {}).update(namespace=namespace, resourceVersion=str(next(_versions)))
        obj["metadata"].setdefault("uid", f"uid-{next(_versions)}")
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

    async def patch(self, kind: str, name: str, namespace: str | None, patch: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        obj = self.objects.get((kind, namespace or "", name))
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        obj.setdefault("data", {}).update(patch.get("data") or {})
        obj["metadata"]["resourceVersion"] = str(next(_versions))
        return copy.deepcopy(obj)
