"""The kopf wiring: which events call which reconcile, and the operator's start-up.

- Workflow create/update/resume -> reconcile_workflow (one status patch per call).
- Workflow delete -> stop its runs, wait for them to end, then let Kubernetes remove what it owns.
- Workflows' schedules: the schedule loop (`handlers.scheduleloop.ScheduleLoop`), a pool of
  workers fed by the workflows' events, their runs' ends and each workflow's timer.
- WorkflowRuns: the run loop (`handlers.runloop.RunLoop`), a fixed pool of workers fed by a work
  queue. A run is queued by its own events (not by the echo of its own status write), by events
  of its pods, by a freed slot, or by the engine's timer. A pass reads the run from the watch's
  latest body and its workflow and pods from kopf indexes (`Context.watched`): no GET or LIST.
- Indexes: every run's slim view (admission, the schedule), every workflow's view, every task
  pod's observed state by run. Pods are watched with a server-side label selector.
- Leader election: the Lease is renewed on a thread of its own (`leader.lease.LeaseKeeper`); the
  operator's writes are fenced by it, and a lost Lease stops the operator.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any, TypeVar

import kopf

from updraft import metrics
from updraft.config import Settings
from updraft.engine import ObservedPod, observe
from updraft.handlers import workflows
from updraft.handlers.context import ALL_RUNS, Context, made_once
from updraft.handlers.runloop import RunLoop, needs_pass
from updraft.handlers.scheduleloop import ScheduleLoop
from updraft.model import names
from updraft.model.names import GROUP, VERSION
from updraft.model.run import WorkflowRun
from updraft.model.workflow import Workflow
from updraft.plan.admission import admitted_now, slot_view

log = logging.getLogger("updraft.operator")


def _ctx(memo: Any) -> Context:
    return memo["ctx"]


def _loop(memo: Any) -> RunLoop:
    return _started(memo["runs"])


def _schedules(memo: Any) -> ScheduleLoop:
    return _started(memo["schedules"])


Pool = TypeVar("Pool", RunLoop, ScheduleLoop)


def _started(pool: Pool) -> Pool:
    """The pool, its workers started on first use from a kopf handler: they inherit its context,
    which `kopf.event` needs (kopf keeps its settings and event queue in context variables)."""
    pool.start()
    return pool


def post_event(obj: Any, type_: str, reason: str, message: str) -> None:
    kopf.event(obj, type=type_, reason=reason, message=message[:1024])


WORKER_IDLE_S = 1.0  # kopf's per-object workers (its default: 5 s)
NO_CHANGE_HANDLERS = frozenset({"WorkflowRun", "Pod"})  # watched for events and indexes only


class UnchangedKindsDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf's diff base (the last-handled-configuration annotation), not built for the kinds
    without change handlers (on.create/update/delete/resume; Workflows have them). kopf builds it
    on every event of every watched object, a deep copy of the whole body (managedFields and
    status too) to keep its spec and labels, and a WorkflowRun's or a Pod's is never used: their
    handlers are events and indexes. An object whose kind is not named is diffed as kopf does."""

    def __init__(self, *, prefix: str, unchanged: frozenset[str]) -> None:
        super().__init__(prefix=prefix)
        self.unchanged = unchanged

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        if body.get("kind") in self.unchanged:
            return kopf.BodyEssence()
        return super().build(body=body, extra_fields=extra_fields)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="updraft.dev")
    settings.persistence.diffbase_storage = UnchangedKindsDiffBase(prefix="updraft.dev", unchanged=NO_CHANGE_HANDLERS)
    settings.persistence.finalizer = "updraft.dev/finalizer"
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    settings.queueing.error_delays = [1, 2, 5, 10, 30, 60]
    # kopf's worker of an object keeps the object's last event (its whole body: managedFields,
    # status) until it has idled this long; kopf's 5 s kept a body for nearly every live run and
    # pod of a busy operator. A worker that exited is made again by the next event, cheaply.
    settings.queueing.idle_timeout = WORKER_IDLE_S
    # the chart's resources exist before the operator starts, and its namespace (when namespaced)
    # is given: no scanning of namespaces and CRDs, which the chart's RBAC does not allow (kopf
    # retried the refused listing with backoff for about 110 s before it served a namespace)
    settings.scanning.disabled = True
    # only the operator's own pods reach it (and its memory): the apiserver filters the watch
    settings.watching.label_selectors["", "v1", "pods"] = f"{names.LABEL_MANAGED}={names.MANAGED_BY}"


@kopf.on.create(GROUP, VERSION, "workflows")
@kopf.on.update(GROUP, VERSION, "workflows", field="spec")
@kopf.on.resume(GROUP, VERSION, "workflows")
async def workflow_changed(body: kopf.Body, patch: kopf.Patch, memo: Any, **_: Any) -> None:
    ctx = _ctx(memo)
    if body["metadata"].get("deletionTimestamp"):
        return
    try:
        async with ctx.workflow_slots:
            status = await workflows.reconcile_workflow(ctx, body)
    except workflows.SourceUnavailable as e:
        # say so on the object now, and try again: a ConfigMap or an S3 object may appear later
        await ctx.kube.patch_status("Workflow", body["metadata"]["name"], body["metadata"]["namespace"], e.status)
        raise kopf.TemporaryError(e.message, delay=e.delay) from None
    except Exception:
        metrics.RECONCILE_ERRORS.labels("Workflow").inc()
        raise
    for key, value in status.items():
        patch.status[key] = value


@kopf.on.delete(GROUP, VERSION, "workflows")
async def workflow_deleted(body: kopf.Body, name: str, namespace: str | None, patch: kopf.Patch, memo: Any,
                           retry: int = 0, **_: Any) -> None:
    ctx = _ctx(memo)
    patch.status["workflowStatus"] = "DELETING"
    async with ctx.workflow_slots:  # 1,000 deleted at once: a few write their runs' stop at a time
        unfinished = await workflows.stop_runs_before_delete(ctx, Workflow.from_body(body))
    if unfinished:
        raise kopf.TemporaryError(f"waiting for {unfinished} run(s) to stop", delay=workflows.stop_poll_delay(retry))


@kopf.index(GROUP, VERSION, "workflowruns")
async def run_index(body: kopf.Body, **_: Any) -> dict[Any, WorkflowRun]:
    """Every run's slim view, kept by kopf from the watch: what admission and the schedule read,
    under ALL_RUNS and under its (namespace, workflow)."""
    view = slot_view(body)
    return {ALL_RUNS: view, (view.namespace, view.workflow): view}


@kopf.index(GROUP, VERSION, "workflows")
async def workflow_index(body: kopf.Body, name: str, namespace: str | None, **_: Any) -> dict[Any, Workflow]:
    """Every workflow's view, from the watch: what a run's reconcile reads instead of a GET."""
    return {(namespace or "", name): Workflow.from_body(without_spec_copies(body))}


# annotations that copy the spec (an inline definition of up to 50 KB each time): kopf's diff base
# and kubectl's last-applied-configuration; the index's views need neither
SPEC_COPIES = ("updraft.dev/last-handled-configuration", "kubectl.kubernetes.io/last-applied-configuration")


def without_spec_copies(body: Any) -> dict[str, Any]:
    meta = dict(body["metadata"])
    meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SPEC_COPIES}
    return {**body, "metadata": meta}


@kopf.index("", "v1", "pods", labels={names.LABEL_MANAGED: names.MANAGED_BY, names.LABEL_RUN: kopf.PRESENT})
async def pod_index(body: kopf.Body, labels: kopf.Labels, namespace: str | None, **_: Any) -> dict[Any, ObservedPod]:
    """Every task pod as the engine sees it, by (namespace, run label): a run's pods without a LIST."""
    return {(namespace or "", labels[names.LABEL_RUN]): observe(body)}


@kopf.on.event("", "v1", "pods", labels={names.LABEL_MANAGED: names.MANAGED_BY})
async def pod_event(meta: kopf.Meta, namespace: str | None, memo: Any, **_: Any) -> None:
    run = (meta.get("labels") or {}).get(names.LABEL_RUN)
    if run:
        _loop(memo).wake_by_label(namespace or "", run)


@kopf.on.event(GROUP, VERSION, "workflows")
async def workflow_event(name: str, namespace: str | None, memo: Any, type: str | None, **kwargs: Any) -> None:
    """Any change (a new version, a new trigger mode or time zone; the initial listing too) queues
    a schedule pass."""
    namespace = namespace or ""  # Workflows and WorkflowRuns are namespaced
    _attach(_ctx(memo), kwargs)
    if type == "DELETED":
        _schedules(memo).forget((namespace, name))
        if not any(key[1] == name for key in kwargs["workflow_index"]):  # kopf dropped this one already
            metrics.forget_workflow(name)
    else:
        _schedules(memo).add((namespace, name))


def _attach(ctx: Context, indexes: Any) -> None:
    """The watch-fed reads (kopf passes its indexes to every handler by name)."""
    ctx.runs.attach(indexes["run_index"])
    ctx.watched.attach(indexes["workflow_index"], indexes["pod_index"])


@kopf.on.event(GROUP, VERSION, "workflowruns")
async def run_event(name: str, namespace: str | None, memo: Any, body: kopf.Body, type: str | None,
                    **kwargs: Any) -> None:
    """Every event of a run (the initial listing too): keep its body for the run loop, and queue a
    pass unless the event only echoes the operator's own write or the run needs no more passes."""
    namespace = namespace or ""  # Workflows and WorkflowRuns are namespaced
    ctx, loop = _ctx(memo), _loop(memo)
    _attach(ctx, kwargs)
    ctx.runs.changed()
    run = WorkflowRun.from_body(body)
    if type == "DELETED":
        ctx.watched.unfollow(namespace, name)
        loop.forget((namespace, name))
        metrics.RUN_STATES.set(namespace, name, None)
    elif needs_pass(body.get("status") or {}):
        own = ctx.watched.is_own_write(namespace, name, body)
        ctx.watched.follow(namespace, name, body)
        if not own:
            loop.wake(namespace, name)
    else:  # finalized: nothing left to do for it
        ctx.watched.unfollow(namespace, name)
        loop.forget((namespace, name))
        metrics.RUN_STATES.set(namespace, name, None)
    if run.is_final or type == "DELETED":
        # a slot may have freed: the waiting runs that may start now look again at once (not
        # every waiting run: with a thousand queued, that is a thousand passes per run that ends),
        # and the workflow's timer (a fire time held back at max_active_runs gets its run)
        if ctx.waiting:
            for key in admitted_now(await ctx.runs.all(), ctx.settings.max_concurrent_runs):
                if key in ctx.waiting:
                    loop.wake(*key)
        _schedules(memo).add((namespace, run.workflow))


async def run_operator(settings: Settings, kubeconfig: str | None = None, stop_flag: Any = None) -> None:
    """Run until stopped. Handlers see `Context` through kopf's memo."""
    import boto3

    from updraft import cloudlogs
    from updraft.k8s.resources import Kube, connect

    import secrets

    from updraft.taskapi import server as task_api

    from updraft import tls

    api = await connect(kubeconfig)
    key = settings.task_api_key.encode() if settings.task_api_key else secrets.token_bytes(32)
    ca_pem = ""
    if settings.task_api_ca_file:
        with open(settings.task_api_ca_file, encoding="ascii") as f:
            ca_pem = f.read()
    kube = Kube(api, timeout_s=settings.kube_timeout_s)  # the reconciles' writes: fenced once leading
    ctx = Context(settings=settings, kube=kube, task_api_key=key, task_api_ca_pem=ca_pem,
                  s3_client_factory=made_once(lambda: boto3.client("s3", region_name=settings.region)),
                  logs_client_factory=made_once(lambda: cloudlogs.client(settings.region)))
    kube.on_write = ctx.watched.written
    run_loop, schedule_loop = RunLoop(ctx, post_event), ScheduleLoop(ctx)
    metrics.register_operator_series()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    metrics.CONCURRENT_RUNS_LIMIT.set(settings.max_concurrent_runs)
    metrics.IS_LEADER.set(0 if settings.leader_election else 1)
    # every replica serves the task API (XCom lives in ConfigMaps); only the leader reconciles
    ssl_context, reloader = (tls.serving(settings.task_api_tls_cert, settings.task_api_tls_key)
                             if settings.task_api_tls_cert else (None, None))
    api_runner = (await task_api.start(Kube(api, timeout_s=settings.kube_timeout_s), key, settings.task_api_port,
                                       ssl_context=ssl_context)
                  if settings.task_api_url else None)
    reloading = asyncio.create_task(reloader.watch()) if reloader is not None else None
    identity = settings.identity or socket.gethostname()
    keeper: Any = None
    stop = stop_flag if stop_flag is not None else asyncio.Event()
    try:
        if settings.leader_election:
            from updraft.leader import lease

            acquiring = asyncio.ensure_future(lease.acquire(
                api, settings.operator_namespace, settings.leader_election_id, identity,
                duration_s=settings.lease_duration_s, renew_every_s=settings.lease_renew_period_s))
            if not await _unless_stopped(acquiring, stop):
                log.info("stopped while waiting to lead")
                return
            loop = asyncio.get_running_loop()
            keeper = lease.LeaseKeeper(
                lambda: connect(kubeconfig), settings.operator_namespace, settings.leader_election_id, identity,
                acquired_at=acquiring.result(), duration_s=settings.lease_duration_s,
                renew_every_s=settings.lease_renew_period_s, renew_deadline_s=settings.lease_renew_deadline_s,
                on_lost=lambda: loop.call_soon_threadsafe(_set_flag, stop),
                # the standby may take over `duration - renew deadline` after the last renewal:
                # a loop too busy to stop by then must not go on acting
                on_stuck=lambda: os._exit(LOST_EXIT_CODE),
                grace_s=max(1.0, settings.lease_duration_s - settings.lease_renew_deadline_s))
            kube.fence = keeper.leading
            keeper.start()
            metrics.IS_LEADER.set(1)
        await kopf.operator(
            memo=kopf.Memo(ctx=ctx, runs=run_loop, schedules=schedule_loop),
            # kopf would ask the passwd database for a user name; a non-root container has none
            identity=f"updraft@{identity}",  # type: ignore[arg-type]  # kopf's Identity is a NewType of str
            standalone=True,
            clusterwide=settings.namespace is None,
            namespaces=[settings.namespace] if settings.namespace else (),
            stop_flag=stop,
        )
    finally:
        await run_loop.close()
        await schedule_loop.close()
        if keeper is not None:
            await keeper.close()
        if reloading is not None:
            reloading.cancel()
            await asyncio.gather(reloading, return_exceptions=True)
        if api_runner is not None:
            await api_runner.cleanup()
        await api.close()
    if keeper is not None and keeper.lost.is_set():
        raise LostLeadership("lost the leader Lease; exiting so that a fresh process competes again")


LOST_EXIT_CODE = 1


class LostLeadership(RuntimeError):
    """The Lease could not be renewed in time: another replica may be reconciling now."""


def _set_flag(stop: Any) -> None:
    if isinstance(stop, asyncio.Event):
        stop.set()
    elif isinstance(stop, asyncio.Future) and not stop.done():
        stop.set_result(None)


async def _unless_stopped(work: Any, stop: Any) -> bool:
    """Await `work` (a standby waiting for the Lease) unless the operator is told to stop first:
    SIGTERM/SIGINT set `stop` meanwhile (kopf installs its own handlers only once it runs, and a
    PID 1 without a handler ignores SIGTERM, so a standby pod would wait out its grace period).
    True when `work` finished."""
    import signal

    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, _set_flag, stop)
            handled.append(sig)
        except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or no signals here
            pass
    working = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait() if isinstance(stop, asyncio.Event) else asyncio.shield(stop))
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        stopping.cancel()
        if not working.done():
            working.cancel()
            await asyncio.gather(working, return_exceptions=True)
    if working.done() and not working.cancelled():
        working.result()  # its own failure, if any, is the caller's to see
        return True
    return False
