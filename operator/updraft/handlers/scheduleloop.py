"""The schedule loop: a fixed pool of workers firing the workflows' cron schedules.

A workflow is queued by its own watch events (a new version, trigger mode or time zone; the
initial listing too), by one of its runs ending (a fire time held back at max_active_runs gets
its run), and by its own timer: the next fire time, at the latest every IDLE_RECHECK_S. A pass
reads the workflow from the watch-fed index (no GET), creates the run that is due (its name is
the fire time's, so a repeated pass creates nothing twice), prunes finished runs beyond
retention, and writes the schedule's status. With a thousand workflows on the same minute, at
most SCHEDULE_WORKERS passes run at once instead of a thousand daemons waking together.

Fires first: a pass that created its run while other workflows wait in the queue holds its status
write (and its retention) and queues itself behind them, so on a busy minute every run is created
before any status is written, and a fire waits for one write ahead of it, not two. A held status
is lost with the process at worst: the next pass creates nothing twice (the run's name is the fire
time's) and writes it then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from updraft.handlers import scheduler
from updraft.handlers.context import Context
from updraft.handlers.workqueue import WorkerPool
from updraft.model.workflow import Workflow

SCHEDULE_WORKERS = 16
IDLE_RECHECK_S = 60.0

CHANGED_RECHECK_S = 1.0  # a workflow changed while its status was held: a full pass this soon

Key = tuple[str, str]  # (namespace, workflow name)


class Held(NamedTuple):
    patch: dict[str, Any]
    wake_at: datetime | None
    seen: tuple[Any, ...]  # what the schedule was computed from (`_basis`)


def _basis(workflow: Workflow) -> tuple[Any, ...]:
    """What a held status was computed from: the spec's generation (trigger mode, time zone) and
    the version (its cron)."""
    return workflow.generation, workflow.latest_version


class ScheduleLoop(WorkerPool[Key]):
    name = "schedules"
    error_kind = "schedule"

    def __init__(self, ctx: Context, workers: int = SCHEDULE_WORKERS) -> None:
        super().__init__(workers)
        self.ctx = ctx
        self._held: dict[Key, Held] = {}

    def forget(self, key: Key) -> None:
        super().forget(key)
        self._held.pop(key, None)

    async def work(self, key: Key) -> float | None:
        namespace, name = key
        workflow = await self.ctx.watched.workflow(namespace, name)
        if workflow is None or workflow.deleting:
            self.forget(key)
            return None
        held = self._held.pop(key, None)
        if held is not None:  # its run was created a moment ago, ahead of the status
            await self._write(workflow, held.patch)
            return self._delay(held.wake_at) if _basis(workflow) == held.seen else CHANGED_RECHECK_S
        step = await scheduler.tick(self.ctx, workflow)
        if step.created and step.patch and self.queue.depth:
            self._held[key] = Held(step.patch, step.wake_at, _basis(workflow))
            self.add(key)  # being worked on: queued again once this pass ends, behind the fires waiting now
            return None
        await self._write(workflow, step.patch)
        return self._delay(step.wake_at)

    async def _write(self, workflow: Workflow, patch: dict[str, Any]) -> None:
        await scheduler.prune_runs(self.ctx, workflow)
        if patch:
            await self.ctx.kube.patch_status("Workflow", workflow.name, workflow.namespace, patch)

    def _delay(self, wake_at: datetime | None) -> float:
        delay = IDLE_RECHECK_S if wake_at is None else (wake_at - self.ctx.now()).total_seconds()
        return max(0.0, min(delay, IDLE_RECHECK_S))
