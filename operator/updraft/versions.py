"""Versions: a Workflow's definition read, validated and versioned once, stored compiled.

- `compile` fetches the definition from the spec's source (pinning the S3 object version it read),
  validates it off the event loop, and derives its content version: one code path for the
  operator and the API.
- `Versions.store` writes the WorkflowVersion with the compiled graph (`spec.graph`, the exact JSON
  form of the TaskGraph) and, with the uid it just got, the immutable definition ConfigMap task
  pods mount.
- `Versions.load` turns a stored version back into its TaskGraph: JSON, never YAML, and never
  judged again by today's limits (a version is immutable: what was valid when made stays valid for
  the runs that use it). Versions made before `spec.graph` existed are compiled once per process,
  with the widest limits, and their ConfigMap is made then.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from updraft.definition import Limits, TaskGraph, content_version, from_dict, to_dict, validate
from updraft.errors import Permanent
from updraft.k8s.resources import Kube, NotFound
from updraft.model import names
from updraft.model.version import WorkflowVersion
from updraft.model.workflow import Workflow
from updraft.podspec.build import definition_configmap
from updraft.sources import Fetched, fetch

# what a version made before graphs were stored is loaded with: it was valid when it was made
WIDEST = Limits(max_definition_bytes=10**9, max_active_runs_limit=10**6, max_retries=10**6,
                max_retry_delay_s=10**9, max_execution_timeout_s=10**9, max_tasks=10**6)
CACHE_TASKS = 50_000  # tasks of the graphs kept loaded: about 16 MiB at most


@dataclass(frozen=True)
class Compiled:
    graph: TaskGraph
    version_id: str
    fetched: Fetched
    warnings: tuple[str, ...]


class InvalidDefinition(Permanent):
    def __init__(self, issues: tuple[Any, ...]) -> None:
        super().__init__("InvalidDefinition", "\n".join(str(i) for i in issues))
        self.issues = issues


async def compile_definition(spec: Mapping[str, Any], namespace: str, kube: Kube, s3_client_factory: Callable[[], Any],
                             limits: Limits, now: datetime, s3_version_id: str | None = None) -> Compiled:
    """Fetch + validate + version. Raises `sources.SourceError` (cannot read now) or
    `InvalidDefinition` (read, and wrong)."""
    fetched = await fetch(spec, namespace, kube, s3_client_factory, s3_version_id)
    result = await asyncio.to_thread(validate, fetched.text, limits=limits, now=now)
    if not result.ok or result.graph is None:
        raise InvalidDefinition(result.errors)
    return Compiled(result.graph, content_version(result.graph), fetched, tuple(str(w) for w in result.warnings))


@dataclass(frozen=True)
class Loaded:
    """A stored version, ready to run: its graph and the ConfigMap its task pods mount."""

    graph: TaskGraph
    object_name: str
    uid: str

    @property
    def definition_configmap(self) -> str:
        return names.definition_configmap_name(self.object_name)


class Versions:
    """Stores and loads WorkflowVersions; keeps the graphs loaded last, up to `cache_tasks` tasks
    in all (versions are immutable, so an entry never goes stale; a pruned version made again has
    a new uid). The bound is in tasks, not versions: every run pass and every schedule pass loads
    its version, so the cache must hold one version of each busy workflow (a bound of 256 versions
    turned every pass into a GET at 1,000 workflows), and a graph costs about 0.3 KiB a task."""

    def __init__(self, kube: Kube, cache_tasks: int = CACHE_TASKS) -> None:
        self.kube = kube
        self._cache: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        self._budget, self._weight = cache_tasks, 0
        self.compiled_legacy = 0  # versions without a stored graph compiled by this process

    async def store(self, compiled: Compiled, workflow: Workflow, timezone: str) -> Loaded:
        """Create the WorkflowVersion (idempotent: the same content is the same object) and its
        definition ConfigMap."""
        graph = compiled.graph
        name = names.version_object_name(workflow.name, compiled.version_id)
        created = await self.kube.create({
            "apiVersion": names.API_VERSION, "kind": "WorkflowVersion",
            "metadata": {"name": name, "namespace": workflow.namespace, "labels": names.workflow_labels(workflow.name),
                         "ownerReferences": [names.owner_ref("Workflow", workflow.name, workflow.uid, controller=True,
                                                             block_owner_deletion=True)]},
            "spec": {"workflowName": workflow.name, "versionId": compiled.version_id,
                     "definition": compiled.fetched.text, "source": dict(compiled.fetched.source),
                     "graph": to_dict(graph), "dagId": graph.dag_id, "schedule": graph.schedule or "None",
                     "timezone": timezone, "taskCount": len(graph.tasks), "triggerMode": workflow.trigger_mode,
                     "warnings": list(compiled.warnings)},
        }, workflow.namespace)
        loaded = Loaded(graph, name, created.body["metadata"]["uid"])
        await self._ensure_configmap(workflow.namespace, loaded)
        self._put((workflow.namespace, name), loaded)
        return loaded

    async def load(self, namespace: str, workflow: str, version_id: str) -> Loaded:
        """The stored version; Permanent("VersionNotFound") when it does not exist."""
        name = names.version_object_name(workflow, version_id)
        cached = self._cache.get((namespace, name))
        if cached is not None:
            self._cache.move_to_end((namespace, name))
            return cached
        try:
            version = WorkflowVersion.from_body(await self.kube.get("WorkflowVersion", name, namespace))
        except NotFound:
            raise Permanent("VersionNotFound", f"version {version_id} of workflow {workflow} does not exist") from None
        if version.graph is not None:
            loaded = Loaded(from_dict(dict(version.graph)), name, version.uid)
        else:
            loaded = Loaded(await self._compile_legacy(version), name, version.uid)
            await self._ensure_configmap(namespace, loaded)
        self._put((namespace, name), loaded)
        return loaded

    async def _compile_legacy(self, version: WorkflowVersion) -> TaskGraph:
        result = await asyncio.to_thread(validate, version.definition, limits=WIDEST)
        if result.graph is None:
            raise Permanent("InvalidVersion", f"version {version.version_id} cannot be loaded: "
                            + "; ".join(map(str, result.errors)))
        self.compiled_legacy += 1
        return result.graph

    async def _ensure_configmap(self, namespace: str, loaded: Loaded) -> None:
        await self.kube.create(definition_configmap(namespace, loaded.object_name, loaded.uid,
                                                    json.dumps(loaded.graph.normalized, separators=(",", ":"))),
                               namespace)

    def _put(self, key: tuple[str, str], loaded: Loaded) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._weight -= _weight(old)
        self._cache[key] = loaded
        self._weight += _weight(loaded)
        while self._weight > self._budget and len(self._cache) > 1:  # the newest always stays
            self._weight -= _weight(self._cache.popitem(last=False)[1])


def _weight(loaded: Loaded) -> int:
    return 1 + len(loaded.graph.tasks)
