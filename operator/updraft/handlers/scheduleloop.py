"""The schedule loop: a fixed pool of workers firing the workflows' cron schedules.

A workflow is queued by its own watch events (a new version, trigger mode or time zone; the
initial listing too), by one of its runs ending (a fire time held back at max_active_runs gets
its run), and by its own timer: the next fire time, at the latest every IDLE_RECHECK_S. A pass
reads the workflow from the watch-fed index (no GET), creates the run that is due (its name is
the fire time's, so a repeated pass creates nothing twice), prunes finished runs beyond
retention, and writes the schedule's status. With a thousand workflows on the same minute, at
most SCHEDULE_WORKERS passes run at once instead of a thousand daemons waking together.
"""

from __future__ import annotations

from updraft.handlers import scheduler
from updraft.handlers.context import Context
from updraft.handlers.workqueue import WorkerPool

SCHEDULE_WORKERS = 16
IDLE_RECHECK_S = 60.0

Key = tuple[str, str]  # (namespace, workflow name)


class ScheduleLoop(WorkerPool[Key]):
    name = "schedules"
    error_kind = "schedule"

    def __init__(self, ctx: Context, workers: int = SCHEDULE_WORKERS) -> None:
        super().__init__(workers)
        self.ctx = ctx

    async def work(self, key: Key) -> float | None:
        namespace, name = key
        workflow = await self.ctx.watched.workflow(namespace, name)
        if workflow is None or workflow.deleting:
            self.forget(key)
            return None
        patch, nxt = await scheduler.tick(self.ctx, workflow)
        await scheduler.prune_runs(self.ctx, workflow)
        if patch:
            await self.ctx.kube.patch_status("Workflow", name, namespace, patch)
        delay = IDLE_RECHECK_S if nxt is None else (nxt - self.ctx.now()).total_seconds()
        return max(0.0, min(delay, IDLE_RECHECK_S))
