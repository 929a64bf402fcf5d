"""What every handler shares: settings, the Kubernetes adapter, the versions service, the clock and
the wake-ups. Built once at operator start-up and handed to kopf as its `memo`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from updraft.config import Settings
from updraft.definition import Limits
from updraft.engine import EngineSettings
from updraft.k8s.resources import Kube
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


@dataclass
class Context:
    settings: Settings
    kube: Kube
    s3_client_factory: Callable[[], Any]
    clock: Callable[[], datetime] = utcnow
    wakeups: Wakeups = field(default_factory=Wakeups)
    task_api_key: bytes = b""
    versions: Versions = field(init=False)

    def __post_init__(self) -> None:
        self.versions = Versions(self.kube)

    @property
    def limits(self) -> Limits:
        return self.settings.limits()

    @property
    def quotas(self) -> Quotas:
        return self.settings.quotas()

    @property
    def engine_settings(self) -> EngineSettings:
        return EngineSettings(cleanup_delay=timedelta(seconds=self.settings.pod_cleanup_delay_s))

    def now(self) -> datetime:
        return self.clock()
