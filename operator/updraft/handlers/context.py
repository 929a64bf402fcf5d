"""What every handler shares: settings, the Kubernetes adapter, the clock, caches, wake-ups.

Built once at operator start-up and handed to kopf as its `memo`; handlers read it, never globals.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from updraft.config import Settings
from updraft.definition import Limits, TaskGraph, validate
from updraft.engine import EngineSettings
from updraft.k8s.resources import Kube, NotFound
from updraft.quota import Quotas


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


class GraphCache:
    """Validated graphs by (namespace, version id): versions are immutable, so entries never go stale."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[tuple[str, str], TaskGraph | str] = OrderedDict()
        self._size = size

    def get(self, key: tuple[str, str]) -> TaskGraph | str | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: tuple[str, str], value: TaskGraph | str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


@dataclass
class Context:
    settings: Settings
    kube: Kube
    s3_client_factory: Callable[[], Any]
    clock: Callable[[], datetime] = utcnow
    wakeups: Wakeups = field(default_factory=Wakeups)
    graphs: GraphCache = field(default_factory=GraphCache)
    task_api_key: bytes = b""
    definition_maps: set[tuple[str, str, str]] = field(default_factory=set)  # (ns, ConfigMap, version uid) made

    @property
    def limits(self) -> Limits:
        return Limits(max_active_runs_limit=self.settings.max_active_runs_limit)

    @property
    def quotas(self) -> Quotas:
        s = self.settings
        return Quotas(workflows_per_cluster=s.max_workflows, versions_per_workflow=s.max_versions,
                      concurrent_runs_cluster=s.max_concurrent_runs, max_active_runs_limit=s.max_active_runs_limit)

    @property
    def engine_settings(self) -> EngineSettings:
        return EngineSettings(cleanup_delay=timedelta(seconds=self.settings.pod_cleanup_delay_s))

    def now(self) -> datetime:
        return self.clock()

    async def graph(self, namespace: str, workflow: str, version: str) -> TaskGraph | str:
        """The graph of a stored version, or a message saying why there is none."""
        cached = self.graphs.get((namespace, version))
        if cached is not None:
            return cached
        try:
            obj = await self.kube.get("WorkflowVersion", version_object_name(workflow, version), namespace)
        except NotFound:
            return f"version {version} of workflow {workflow} does not exist"
        result = validate(obj["spec"]["definition"], limits=self.limits)
        value: TaskGraph | str = result.graph if result.graph is not None else "; ".join(map(str, result.errors))
        self.graphs.put((namespace, version), value)
        return value


def version_object_name(workflow: str, version: str) -> str:
    return f"{workflow}-{version}"
