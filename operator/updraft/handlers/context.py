"""What every handler shares: settings, the Kubernetes adapter, the versions service, the clock and
the wake-ups. Built once at operator start-up and handed to kopf as its `memo`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from updraft.config import Settings
from updraft.definition import Limits
from updraft.engine import EngineSettings
from updraft.k8s.resources import Kube
from updraft.model.run import WorkflowRun
from updraft.model.states import LogBackend
from updraft.plan.admission import slot_view
from updraft.quota import Quotas
from updraft.versions import Versions


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Wakeups:
    """One asyncio.Event per object a daemon works on; watch handlers set it to cut a sleep short."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str, str], asyncio.Event] = {}

    def register(self, kind: str, namespace: str, name: str) -> asyncio.Event:
        return self._events.setdefault((kind, namespace, name), asyncio.Event())

    def unregister(self, kind: str, namespace: str, name: str) -> None:
        self._events.pop((kind, namespace, name), None)

    def wake(self, kind: str, namespace: str, name: str) -> None:
        event = self._events.get((kind, namespace, name))
        if event is not None:
            event.set()


ALL_RUNS = "all"  # the one key of the operator's run index


class RunBook:
    """Slim views of every WorkflowRun the operator watches (`plan.admission.slot_view`): from
    kopf's index, fed by the watch, once the operator runs (`attach`); listed from the API before
    that (and in tests). Admission and the schedule read it instead of listing every run."""

    def __init__(self, kube: Kube, namespace: str | None) -> None:
        self.kube, self.namespace = kube, namespace
        self._index: Mapping[Any, Iterable[WorkflowRun]] | None = None

    def attach(self, index: Mapping[Any, Iterable[WorkflowRun]]) -> None:
        self._index = index

    async def all(self) -> list[WorkflowRun]:
        if self._index is not None:
            return list(self._index.get(ALL_RUNS, ()))
        return [slot_view(body) for body in await self.kube.list("WorkflowRun", self.namespace)]


@dataclass
class Context:
    settings: Settings
    kube: Kube
    s3_client_factory: Callable[[], Any]
    logs_client_factory: Callable[[], Any] | None = None  # CloudWatch Logs (the default log groups)
    clock: Callable[[], datetime] = utcnow
    wakeups: Wakeups = field(default_factory=Wakeups)
    task_api_key: bytes = b""
    versions: Versions = field(init=False)
    runs: RunBook = field(init=False)
    waiting: set[tuple[str, str]] = field(default_factory=set)  # (namespace, run key) of runs not admitted yet

    def __post_init__(self) -> None:
        self.versions = Versions(self.kube)
        self.runs = RunBook(self.kube, self.settings.namespace)

    @property
    def limits(self) -> Limits:
        return self.settings.limits()

    @property
    def quotas(self) -> Quotas:
        return self.settings.quotas()

    @property
    def engine_settings(self) -> EngineSettings:
        s = self.settings
        shipping = s.logs_backend == LogBackend.CLOUDWATCH
        return EngineSettings(cleanup_delay=timedelta(seconds=s.pod_cleanup_delay_s), ship_logs=shipping,
                              # logs only on pods: a failed run's pods (its logs) stay longer
                              failed_cleanup_delay=None if shipping else timedelta(seconds=max(
                                  s.failed_pod_retention_s, s.pod_cleanup_delay_s)))

    def now(self) -> datetime:
        return self.clock()
