"""The fault tier's API server: the unit tier's FakeKube (tests/unit/fakekube.py) made to answer
like a real install under faults.

- It enforces the chart's RBAC (fault_rbac.py): a verb the operator's ClusterRole lacks is a 403.
- Pods are deleted gracefully, as the apiserver does for a pod on a live node: a
  deletionTimestamp first; the fake kubelet (fault_kubelet.py) removes the object once its container
  stopped.
- Every successful create is logged with its time (`creates`): the oracle of duplicates, never a
  final listing.
- `injector` may fail any call before or after it is applied: a crash of the process (`Crash`, a
  BaseException that no handler catches, as SIGKILL), an error answer, a hang cut by a timeout, or a
  status write that is acknowledged and lost.

A fake on purpose (see fakekube.py): the model tier runs hundreds of runs with crashes in seconds
of CPU; the integration tier runs the same handlers against a real kube-apiserver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol

from fakekube import FakeKube, _copy
from fault_rbac import allows

from updraft.k8s.resources import Created, KubeError, NotFound
from updraft.model.times import format_ts


class Crash(BaseException):
    """The operator process dies here (SIGKILL, OOM): nothing after this line runs."""


@dataclass(frozen=True)
class Call:
    verb: str  # get | list | create | patch | patch_status | delete
    kind: str
    name: str
    process: str  # which operator process made it ("main", "stale")


class Injector(Protocol):
    def before(self, call: Call) -> None: ...

    def after(self, call: Call) -> None: ...

    def lose_status_write(self, call: Call) -> bool: ...


class NoFaults:
    def before(self, call: Call) -> None:
        pass

    def after(self, call: Call) -> None:
        pass

    def lose_status_write(self, call: Call) -> bool:
        return False


_VERB = {"get": "get", "list": "list", "create": "create", "patch": "patch", "patch_status": "patch",
         "delete": "delete"}


class Server(FakeKube):
    """The store, shared by every operator process; `client(process)` is what one process uses."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(clock)
        self.injector: Injector = NoFaults()
        self.creates: list[tuple[datetime, str, str, dict[str, str]]] = []  # (when, kind, name, labels)
        self.forbidden: list[Call] = []

    def client(self, process: str = "main") -> Client:
        return Client(self, process)

    # the kubelet and the test's own hands (no RBAC, no faults)
    def remove(self, kind: str, namespace: str, name: str) -> None:
        self.objects.pop((kind, namespace, name), None)

    def mark_deleted(self, namespace: str, name: str) -> bool:
        """A graceful delete of a pod: the apiserver sets deletionTimestamp; the kubelet ends it."""
        obj = self.objects.get(("Pod", namespace, name))
        if obj is None:
            return False
        if not obj["metadata"].get("deletionTimestamp"):
            obj["metadata"]["deletionTimestamp"] = format_ts(self.clock())
            obj["metadata"]["resourceVersion"] = str(next(self._ids))
        return True


class Client:
    """One operator process's view of the server: the adapter's methods, under RBAC and faults."""

    def __init__(self, server: Server, process: str) -> None:
        self.server, self.process = server, process

    async def _call(self, verb: str, kind: str, name: str, apply: Callable[[], Any],
                    sub: str | None = None) -> Any:
        call = Call(verb, kind, name, self.process)
        s = self.server
        s.injector.before(call)
        if not allows(_VERB[verb], kind, sub):
            s.forbidden.append(call)
            raise KubeError(403, "Forbidden", f'{kind.lower()}s "{name}" is forbidden: cannot {_VERB[verb]}')
        result = await apply()
        s.injector.after(call)
        return result

    async def create(self, body: Mapping[str, Any], namespace: str | None = None, *,
                     read_existing: bool = True) -> Created:
        s, kind, name = self.server, body["kind"], body["metadata"]["name"]

        async def apply() -> Created:
            created = await FakeKube.create(s, body, namespace, read_existing=False)
            if not created.existed:
                s.creates.append((s.clock(), kind, name, dict(body["metadata"].get("labels") or {})))
            elif read_existing:
                created = Created(await self.get(kind, name, namespace), existed=True)
            return created
        return await self._call("create", kind, name, apply)  # type: ignore[no-any-return]

    async def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        return await self._call("get", kind, name, lambda: FakeKube.get(self.server, kind, name, namespace))  # type: ignore[no-any-return]

    async def get_or_none(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return await self.get(kind, name, namespace)
        except NotFound:
            return None

    async def list(self, kind: str, namespace: str | None = None,
                   labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        return await self._call("list", kind, "", lambda: FakeKube.list(self.server, kind, namespace, labels))  # type: ignore[no-any-return]

    async def patch(self, kind: str, name: str, namespace: str | None, patch: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call("patch", kind, name,  # type: ignore[no-any-return]
                                lambda: FakeKube.patch(self.server, kind, name, namespace, patch))

    async def patch_status(self, kind: str, name: str, namespace: str | None,
                           status: Mapping[str, Any]) -> dict[str, Any]:
        s = self.server
        call = Call("patch_status", kind, name, self.process)

        async def apply() -> dict[str, Any]:
            if s.injector.lose_status_write(call):  # acknowledged, never stored
                obj = s.objects.get((kind, namespace or "", name))
                if obj is None:
                    raise NotFound(404, "NotFound", f"{kind} {name} not found")
                return _copy(obj)
            return await FakeKube.patch_status(s, kind, name, namespace, status)
        return await self._call("patch_status", kind, name, apply, sub="status")  # type: ignore[no-any-return]

    async def delete(self, kind: str, name: str, namespace: str | None = None, grace_seconds: int | None = None) -> bool:
        s = self.server

        async def apply() -> bool:
            if kind == "Pod":
                return s.mark_deleted(namespace or "", name)
            return s.objects.pop((kind, namespace or "", name), None) is not None
        return await self._call("delete", kind, name, apply)  # type: ignore[no-any-return]

    async def exists_kind(self, kind: str) -> bool:
        return kind in self.server.kinds
