"""An in-memory stand-in for `updraft.k8s.resources.Kube` (same methods, same error types), with
a settable clock, for unit tests of the handlers' I/O logic without a cluster.

A fake, on purpose: these tests are about what the handlers ask and decide, in milliseconds and
with any `now`; the integration tier runs the same handlers against a real kube-apiserver.
It does what the apiserver does that the handlers rely on: uids, generations, resourceVersions,
creationTimestamps, AlreadyExists on create, NotFound, merge patches (None removes a key) with a
`metadata.resourceVersion` precondition answered with Conflict, label selectors on list. Every
call yields to the event loop once, so concurrent requests interleave as they do against a real
server. `fail` makes chosen calls raise; `calls` counts every call by verb and kind."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from updraft.k8s.resources import Conflict, Created, KubeError, NotFound
from updraft.model.times import format_ts


def _copy(obj: Any) -> Any:
    """What a client gets: a fresh copy (objects are JSON, so a JSON round trip, fast)."""
    return json.loads(json.dumps(obj))


def _field(obj: Any, path: str) -> Any:
    """A field selector's dotted path (`involvedObject.name`, `metadata.name`) in an object."""
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = _copy(v)
    return target


class FakeKube:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.clock = clock or (lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
        self.calls: Counter[tuple[str, str]] = Counter()
        self.fail: dict[tuple[str, str], KubeError] = {}  # (verb, kind) -> raised once per entry
        self._ids = itertools.count(1)
        self.kinds: set[str] = set()
        self.unreadable: set[str] = set()  # kinds the caller may not get (the chart's RBAC: Secrets)
        self.pod_logs: dict[str, str] = {}  # pod name -> its log (pod_log)

    async def _check(self, verb: str, kind: str) -> None:
        await asyncio.sleep(0)
        self.calls[(verb, kind)] += 1
        error = self.fail.pop((verb, kind), None)
        if error is not None:
            raise error

    def put(self, body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
        """Store an object as given (a test's starting state); metadata the server sets is filled in
        where the body lacks it."""
        obj = _copy(dict(body))
        n = next(self._ids)
        meta = obj.setdefault("metadata", {})
        meta["namespace"], meta["resourceVersion"] = namespace, str(n)
        meta.setdefault("uid", str(uuid.UUID(int=n)))  # deterministic, and a UUID as the apiserver's are
        meta.setdefault("generation", 1)
        meta.setdefault("creationTimestamp", format_ts(self.clock()))
        obj.pop("stringData", None)
        self.objects[(obj["kind"], namespace, meta["name"])] = obj
        return _copy(obj)

    async def create(self, body: Mapping[str, Any], namespace: str | None = None, *,
                     read_existing: bool = True) -> Created:
        kind = body["kind"]
        await self._check("create", kind)
        ns = namespace or body.get("metadata", {}).get("namespace") or ""
        key = (kind, ns, body["metadata"]["name"])
        if key in self.objects:
            if not read_existing:
                return Created(_copy(dict(body)), existed=True)
            return Created(_copy((await self.get(kind, body["metadata"]["name"], ns))), existed=True)
        body = {**body, "metadata": {k: v for k, v in body["metadata"].items() if k not in ("uid", "generation")}}
        return Created(self.put(body, ns), existed=False)

    async def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        await self._check("get", kind)
        if kind in self.unreadable:
            raise KubeError(403, "Forbidden", f'{kind.lower()}s "{name}" is forbidden: cannot get')
        obj = self.objects.get((kind, namespace or "", name))
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        return _copy(obj)

    async def get_or_none(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return await self.get(kind, name, namespace)
        except NotFound:
            return None

    async def list(self, kind: str, namespace: str | None = None,
                   labels: Mapping[str, str] | None = None, fields: Mapping[str, str] | None = None,
                   page_size: int = 500) -> list[dict[str, Any]]:
        await self._check("list", kind)
        out = []
        for (k, ns, _), obj in sorted(self.objects.items()):
            if k != kind or (namespace is not None and ns != namespace):
                continue
            have = obj["metadata"].get("labels") or {}
            if all(have.get(a) == b for a, b in (labels or {}).items()) and all(
                    _field(obj, path) == value for path, value in (fields or {}).items()):
                out.append(_copy(obj))
        return out

    async def patch(self, kind: str, name: str, namespace: str | None, patch: Mapping[str, Any]) -> dict[str, Any]:
        await self._check("patch", kind)
        obj = self.objects.get((kind, namespace or "", name))
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified; please apply your changes to the latest version")
        before = _copy(obj.get("spec"))
        _merge(obj, {k: v for k, v in patch.items() if k != "status"})
        if obj.get("spec") != before:
            obj["metadata"]["generation"] += 1
        obj["metadata"]["resourceVersion"] = str(next(self._ids))
        return _copy(obj)

    async def patch_status(self, kind: str, name: str, namespace: str | None,
                           status: Mapping[str, Any]) -> dict[str, Any]:
        await self._check("patch_status", kind)
        obj = self.objects.get((kind, namespace or "", name))
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        _merge(obj.setdefault("status", {}), status)
        obj["metadata"]["resourceVersion"] = str(next(self._ids))
        return _copy(obj)

    async def delete(self, kind: str, name: str, namespace: str | None = None, grace_seconds: int | None = None) -> bool:
        await self._check("delete", kind)
        return self.objects.pop((kind, namespace or "", name), None) is not None

    async def pod_log(self, name: str, namespace: str, limit_bytes: int = 1_048_576, tail_lines: int | None = None) -> str:
        """What `pod_logs` holds for the pod (NotFound when the pod does not exist)."""
        await self.get("Pod", name, namespace)
        lines = self.pod_logs.get(name, "").splitlines(keepends=True)
        return "".join(lines[-tail_lines:] if tail_lines else lines)[-limit_bytes:]

    async def exists_kind(self, kind: str) -> bool:
        return kind in self.kinds

    def of(self, kind: str, namespace: str = "") -> list[dict[str, Any]]:
        return [o for (k, ns, _), o in sorted(self.objects.items()) if k == kind and (not namespace or ns == namespace)]
