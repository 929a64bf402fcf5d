"""What every handler shares: settings, the Kubernetes adapter, the versions service, the clock
and the reads fed by the watches. Built once at operator start-up and handed to kopf
as its `memo`."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, TypeVar

from updraft.config import Settings
from updraft.definition import Limits
from updraft.engine import EngineSettings, ObservedPod, observe
from updraft.k8s.resources import Kube, NotFound
from updraft.model import names
from updraft.model.run import WorkflowRun
from updraft.model.states import LogBackend
from updraft.model.workflow import Workflow
from updraft.plan.admission import AdmissionBook, is_admitted, slot_view
from updraft.quota import Quotas
from updraft.versions import Versions


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


ALL_RUNS = "all"  # the run index's key of every run; each run is also under (namespace, its workflow)


class RunBook:
    """Slim views of every WorkflowRun the operator watches (`plan.admission.slot_view`): from
    kopf's index, fed by the watch, once the operator runs (`attach`); listed from the API before
    that (and in tests). Admission and the schedule read it instead of listing every run."""

    def __init__(self, kube: Kube, namespace: str | None) -> None:
        self.kube, self.namespace = kube, namespace
        self._index: Mapping[Any, Iterable[WorkflowRun]] | None = None
        self.version = 0  # bumped on every run event: admission's answers are cached per version
        self._admission = AdmissionBook()

    def attach(self, index: Mapping[Any, Iterable[WorkflowRun]]) -> None:
        self._index = index

    def changed(self) -> None:
        """A run changed (a watch event, after kopf updated its index)."""
        self.version += 1

    async def is_admitted(self, run: WorkflowRun, max_active_runs: int, cluster_limit: int) -> bool:
        """Whether the waiting `run` may start now (`plan.admission`), against every run watched."""
        runs = await self.all()
        if self._index is None:  # listed just now: no version to cache it by
            return is_admitted(runs, run, max_active_runs, cluster_limit)
        return self._admission.is_admitted(self.version, runs, run, max_active_runs, cluster_limit)

    async def all(self) -> list[WorkflowRun]:
        if self._index is not None:
            return list(self._index.get(ALL_RUNS, ()))
        return [slot_view(body) for body in await self.kube.list("WorkflowRun", self.namespace)]

    async def of_workflow(self, namespace: str, workflow: str) -> list[WorkflowRun]:
        """The runs of one workflow, by spec (a run made with kubectl may lack the workflow label):
        from the index's key of that workflow, not a scan of every run (a schedule pass per
        workflow, each scanning every run, grew as workflows times runs)."""
        if self._index is not None:
            return list(self._index.get((namespace, workflow), ()))
        return [r for r in await self.all() if r.namespace == namespace and r.workflow == workflow]


Key = tuple[str, str]  # (namespace, name)


def _version(body: Mapping[str, Any]) -> int | None:
    try:
        return int((body.get("metadata") or {}).get("resourceVersion") or "")
    except ValueError:
        return None


def newest(watched: Mapping[str, Any], written: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The fresher of the watch's body and the operator's own last write of the same object. The
    API server's resourceVersions are etcd revisions (integers that grow); when either is not an
    integer, the watch's body wins."""
    if written is None:
        return watched
    a, b = _version(watched), _version(written)
    return written if a is not None and b is not None and b > a else watched


_KEPT_META = ("name", "namespace", "uid", "generation", "resourceVersion", "creationTimestamp",
              "deletionTimestamp", "labels", "ownerReferences")


def slim_run(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a pass reads of a run's body (`WorkflowRun.from_body`, and the resourceVersion that
    orders the watch's copy against the operator's own write): metadata without its managedFields
    and annotations (kubectl's last-applied-configuration), the spec and the status. A run's
    managedFields alone are as large as the rest of it."""
    meta = body.get("metadata") or {}
    return {"metadata": {k: meta[k] for k in _KEPT_META if k in meta},
            "spec": body.get("spec") or {}, "status": body.get("status") or {}}


class Watched:
    """The run loop's reads, fed by kopf's watches instead of a GET or LIST per pass:

    - a run's body: the newest of the watch's latest event and the operator's own last write of
      it (the watch echoes a write a moment later), slimmed (`slim_run`) and one per run: a pass
      reads it, never the whole object kopf was handed;
    - a workflow: kopf's workflow index (`Workflow` views by namespace and name);
    - a run's pods: kopf's pod index (`ObservedPod`s by namespace and run label), fed by a watch
      of the operator's pods only (a server-side label selector).

    Before `attach` (and in tests) each falls back to a GET or a LIST."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._live: dict[Key, Mapping[str, Any]] = {}
        self._written: dict[Key, int | None] = {}  # the resourceVersion of the operator's last write
        self._workflows: Mapping[Any, Iterable[Workflow]] | None = None
        self._pods: Mapping[Any, Iterable[ObservedPod]] | None = None

    def attach(self, workflows: Mapping[Any, Iterable[Workflow]], pods: Mapping[Any, Iterable[ObservedPod]]) -> None:
        self._workflows, self._pods = workflows, pods

    def follow(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """A watch event of a run the loop works on: read the run from it from now on, unless the
        operator's own write of it is newer."""
        key = (namespace, name)
        self._live[key] = newest(slim_run(body), self._live.get(key) if key in self._written else None)

    def unfollow(self, namespace: str, name: str) -> None:
        self._live.pop((namespace, name), None)
        self._written.pop((namespace, name), None)

    def written(self, kind: str, body: Mapping[str, Any]) -> None:
        """`Kube.on_write`: the answer of a write, kept for the runs that have a loop."""
        meta = body.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        if kind == "WorkflowRun" and key in self._live:
            self._written[key] = _version(body)
            self._live[key] = newest(self._live[key], slim_run(body))

    def is_own_write(self, namespace: str, name: str, body: Mapping[str, Any]) -> bool:
        """Whether a watch event of a run only echoes the operator's own last write of it."""
        mine = self._written.get((namespace, name))
        return mine is not None and mine == _version(body)

    async def run(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The run's freshest body, or None when it is gone."""
        live = self._live.get((namespace, name))
        if live is not None:
            return live
        try:
            return await self.kube.get("WorkflowRun", name, namespace)
        except NotFound:
            return None

    async def workflows(self, namespace: str | None) -> list[Workflow]:
        """Every workflow of `namespace` (None: all), from the index (a LIST before `attach`)."""
        if self._workflows is not None:
            return [w for views in list(self._workflows.values()) for w in views
                    if namespace is None or w.namespace == namespace]
        return [Workflow.from_body(b) for b in await self.kube.list("Workflow", namespace)]

    async def workflow(self, namespace: str, name: str) -> Workflow | None:
        if self._workflows is not None:
            return next(iter(self._workflows.get((namespace, name), ())), None)
        body = await self.kube.get_or_none("Workflow", name, namespace)
        return Workflow.from_body(body) if body is not None else None

    async def pods(self, namespace: str, run: str) -> list[ObservedPod]:
        if self._pods is not None:
            return list(self._pods.get((namespace, names.label_value(run)), ()))
        return [observe(p) for p in await self.kube.list("Pod", namespace, names.run_selector(run))]


WORKFLOW_RECONCILES = 16  # workflows validated at once: each holds its definition, graph and clients meanwhile

T = TypeVar("T")


def made_once(factory: Callable[[], T]) -> Callable[[], T]:
    """A factory that makes its object on the first call and hands out that one from then on, from
    any thread. For AWS clients: one is safe to share between threads, and each costs memory
    (0.3 MB, and about half a second of CPU for the first): an operator starting with 1,000
    workflows made one per workflow at once and was OOM-killed (2026-12-03)."""
    lock = threading.Lock()
    made: list[T] = []

    def get() -> T:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get


@dataclass
class Context:
    settings: Settings
    kube: Kube
    s3_client_factory: Callable[[], Any]
    logs_client_factory: Callable[[], Any] | None = None  # CloudWatch Logs (the default log groups)
    clock: Callable[[], datetime] = utcnow
    task_api_key: bytes = b""
    task_api_ca_pem: str = ""  # the CA task pods verify the task API with (empty: plain HTTP)
    versions: Versions = field(init=False)
    runs: RunBook = field(init=False)
    watched: Watched = field(init=False)
    waiting: set[tuple[str, str]] = field(default_factory=set)  # (namespace, name) of runs not admitted yet
    # how many workflow reconciles (fetch, validate, store a version, check the log group) and
    # deletions (their runs' stop) run at once: at start every workflow is reconciled, and 1,000
    # at once outgrew the operator's memory
    workflow_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WORKFLOW_RECONCILES))

    def __post_init__(self) -> None:
        self.versions = Versions(self.kube)
        self.runs = RunBook(self.kube, self.settings.namespace)
        self.watched = Watched(self.kube)

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
