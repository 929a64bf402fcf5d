"""The run loop: a fixed pool of workers reconciling WorkflowRuns from one work queue.

A run is queued by the watches (an event of the run that is not the echo of the operator's own
write, an event of one of its pods, a freed slot) and by the engine's own timer (the decision's
`requeue_at`, at the latest every IDLE_RECHECK_S). The pool bounds how many passes, and so how
many API calls, run at once: a thousand queued runs cost a thousand cheap passes, never a
thousand concurrent loops that flood the API server's queues (and starve the Lease renewal).

A pass that fails is retried on its own timer: a transient error (429, 5xx, a timeout) in
TRANSIENT_RETRY_S, any other error after a growing delay (ERROR_DELAYS); the run keeps its place
and its slot, and nothing else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Mapping

from updraft import metrics
from updraft.engine import Decision
from updraft.errors import Retry, transient
from updraft.handlers.context import Context
from updraft.handlers.runs import PostEvent, reconcile_run
from updraft.handlers.workqueue import WorkQueue
from updraft.k8s.resources import KubeError
from updraft.model import names
from updraft.model.states import RunState

log = logging.getLogger("updraft.runloop")
RUN_WORKERS = 16  # passes at once: enough to keep the API server busy, never to flood it
IDLE_RECHECK_S = 60.0
TRANSIENT_RETRY_S = 5.0  # a pass whose Kubernetes call failed transiently looks again this soon
ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # after the 1st, 2nd ... failure in a row of any other kind

Key = tuple[str, str]  # (namespace, run name)
Reconcile = Callable[[Context, str, str, PostEvent], Awaitable[Decision | None]]


def needs_pass(status: Mapping[str, Any]) -> bool:
    """A run whose pods are cleaned up needs no pass: after a restart only live runs are queued."""
    return not status.get("finalized")


class RunLoop:
    def __init__(self, ctx: Context, post_event: PostEvent, workers: int = RUN_WORKERS,
                 reconcile: Reconcile = reconcile_run) -> None:
        self.ctx, self.post_event, self.reconcile = ctx, post_event, reconcile
        self.workers = workers
        self.queue: WorkQueue[Key] = WorkQueue()
        self._failures: dict[Key, int] = {}
        self._by_label: dict[Key, str] = {}  # (namespace, run label value) -> run name: pods name their run by label
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"run-worker-{i}") for i in range(self.workers)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.queue.close()

    def wake(self, namespace: str, name: str) -> None:
        """Reconcile the run soon."""
        self._by_label[(namespace, names.label_value(name))] = name
        self.queue.add((namespace, name))
        metrics.RUN_QUEUE_DEPTH.set(self.queue.depth)

    def wake_by_label(self, namespace: str, label: str) -> None:
        """Reconcile the run whose pods carry this run label (one the loop knows), soon."""
        name = self._by_label.get((namespace, label))
        if name is not None:
            self.wake(namespace, name)

    def forget(self, namespace: str, name: str) -> None:
        """The run is gone or needs no more passes: drop its timer and what the loop keeps of it."""
        key = (namespace, name)
        self.queue.cancel_timer(key)
        self._failures.pop(key, None)
        self._by_label.pop((namespace, names.label_value(name)), None)
        self.ctx.waiting.discard(key)

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            try:
                await self.run_pass(*key)
            finally:
                self.queue.done(key)
                metrics.RUN_QUEUE_DEPTH.set(self.queue.depth)

    async def run_pass(self, namespace: str, name: str) -> None:
        """One reconcile of the run, then its next timer (or none, once it needs no more)."""
        key = (namespace, name)
        metrics.RUN_PASSES.inc()
        try:
            decision = await self.reconcile(self.ctx, namespace, name, self.post_event)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a failed pass never stops the loop: the run is looked at again
            metrics.RECONCILE_ERRORS.labels("WorkflowRun").inc()
            delay = self.retry_delay(key, e)
            if isinstance(e, (Retry, KubeError)):
                log.warning("run %s/%s: %s; again in %.0f s", namespace, name, e, delay)
            else:
                log.exception("run %s/%s: the pass failed; again in %.0f s", namespace, name, delay)
            self.queue.later(key, delay)
            return
        self._failures.pop(key, None)
        if decision is None:  # the run is gone
            metrics.RUN_STATES.set(namespace, name, None)
            self.forget(namespace, name)
            return
        if decision.done:
            self.forget(namespace, name)
            return
        if decision.status.run_state in RunState.WAITING:
            self.ctx.waiting.add(key)  # woken when a slot frees
        else:
            self.ctx.waiting.discard(key)
        delay = IDLE_RECHECK_S
        if decision.requeue_at is not None:
            delay = (decision.requeue_at - self.ctx.now()).total_seconds()
        self.queue.later(key, max(0.0, min(delay, IDLE_RECHECK_S)))

    def retry_delay(self, key: Key, error: Exception) -> float:
        """How long a run whose pass failed with `error` waits for its next one."""
        if isinstance(error, Retry):
            return float(error.delay)
        if isinstance(error, KubeError) and transient(error):
            return TRANSIENT_RETRY_S
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return ERROR_DELAYS[min(failures, len(ERROR_DELAYS) - 1)]
