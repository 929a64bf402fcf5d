"""The run loop: a fixed pool of workers reconciling WorkflowRuns from one work queue.

A run is queued by the watches (an event of the run that is not the echo of the operator's own
write, an event of one of its pods, a freed slot) and by the engine's own timer (the decision's
`requeue_at`, at the latest every IDLE_RECHECK_S). The pool bounds how many passes, and so how
many API calls, run at once: a thousand queued runs cost a thousand cheap passes, never a
thousand concurrent loops that flood the API server's queues (and starve the Lease renewal).
A pass that fails is retried on the run's own timer (`WorkerPool.retry_delay`); the run keeps
its place and its slot, and nothing else waits for it.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from updraft import metrics
from updraft.engine import Decision
from updraft.handlers.context import Context
from updraft.handlers.runs import PostEvent, reconcile_run
from updraft.handlers.workqueue import WorkerPool
from updraft.model import names
from updraft.model.states import RunState

RUN_WORKERS = 16  # passes at once: enough to keep the API server busy, never to flood it
IDLE_RECHECK_S = 60.0

Key = tuple[str, str]  # (namespace, run name)
Reconcile = Callable[[Context, str, str, PostEvent], Awaitable[Decision | None]]


def needs_pass(status: Mapping[str, Any]) -> bool:
    """A run whose pods are cleaned up needs no pass: after a restart only live runs are queued."""
    return not status.get("finalized")


class RunLoop(WorkerPool[Key]):
    name = "runs"
    error_kind = "WorkflowRun"

    def __init__(self, ctx: Context, post_event: PostEvent, workers: int = RUN_WORKERS,
                 reconcile: Reconcile = reconcile_run) -> None:
        super().__init__(workers)
        self.ctx, self.post_event, self.reconcile = ctx, post_event, reconcile
        self._by_label: dict[Key, str] = {}  # (namespace, run label value) -> run name: pods name their run by label

    def wake(self, namespace: str, name: str) -> None:
        """Reconcile the run soon."""
        self._by_label[(namespace, names.label_value(name))] = name
        self.add((namespace, name))

    def wake_by_label(self, namespace: str, label: str) -> None:
        """Reconcile the run whose pods carry this run label (one the loop knows), soon."""
        name = self._by_label.get((namespace, label))
        if name is not None:
            self.wake(namespace, name)

    def forget(self, key: Key) -> None:
        """The run is gone or needs no more passes: drop its timer and what the loop keeps of it."""
        super().forget(key)
        self._by_label.pop((key[0], names.label_value(key[1])), None)
        self.ctx.waiting.discard(key)

    async def work(self, key: Key) -> float | None:
        namespace, name = key
        decision = await self.reconcile(self.ctx, namespace, name, self.post_event)
        if decision is None:  # the run is gone
            metrics.RUN_STATES.set(namespace, name, None)
            self.forget(key)
            return None
        if decision.done:
            self.forget(key)
            return None
        if decision.status.run_state in RunState.WAITING:
            self.ctx.waiting.add(key)  # woken when a slot frees
        else:
            self.ctx.waiting.discard(key)
        delay = IDLE_RECHECK_S
        if decision.requeue_at is not None:
            delay = (decision.requeue_at - self.ctx.now()).total_seconds()
        return max(0.0, min(delay, IDLE_RECHECK_S))
