"""Scheduled runs: one timer per workflow that wakes at the exact next fire time and creates the
run for it. The run's name comes from (workflow, fire time), so a restart, a second replica or a
replayed watch can only ever create it once (AlreadyExists is success). What is due is decided by
`plan.scheduling.tick`; this module reads the version and writes the run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from updraft import metrics
from updraft.errors import Permanent
from updraft.handlers.context import Context
from updraft.model import names
from updraft.model.times import format_ts
from updraft.model.workflow import Workflow
from updraft.plan import scheduling
from updraft.plan.workflow import workflow_schedule
from updraft.schedule import Schedule, ScheduleError


async def schedule_of(ctx: Context, workflow: Workflow) -> Schedule | None:
    """The schedule in force, or None (manual only, disabled, no valid version, no cron)."""
    if workflow.latest_version is None:
        return None
    try:
        loaded = await ctx.versions.load(workflow.namespace, workflow.name, workflow.latest_version)
        return workflow_schedule(workflow, loaded.graph)
    except (Permanent, ScheduleError):  # the workflow's conditions say why (its reconcile checked both)
        return None


async def create_scheduled_run(ctx: Context, workflow: Workflow, fire: datetime) -> bool:
    """True when this call created the run (False: it already existed)."""
    created = await ctx.kube.create({
        "apiVersion": names.API_VERSION, "kind": "WorkflowRun",
        "metadata": {"name": names.scheduled_run_name(workflow.name, fire), "namespace": workflow.namespace,
                     "labels": names.workflow_labels(workflow.name),
                     "annotations": {names.ANNOTATION_SCHEDULED_TIME: format_ts(fire)},
                     "ownerReferences": [names.owner_ref("Workflow", workflow.name, workflow.uid)]},
        "spec": {"workflowName": workflow.name, "runType": "SCHEDULED", "logicalDate": format_ts(fire),
                 "workflowVersion": workflow.latest_version},
    }, workflow.namespace)
    return not created.existed


async def tick(ctx: Context, body: Any) -> tuple[dict[str, Any], datetime | None]:
    """One scheduler step: (status patch, when to wake next)."""
    workflow = Workflow.from_body(body)
    now = ctx.now()
    step = scheduling.tick(workflow, await schedule_of(ctx, workflow), now,
                           timedelta(seconds=ctx.settings.schedule_starting_deadline_s))
    if step.due is not None and await create_scheduled_run(ctx, workflow, step.due):
        metrics.SCHEDULE_DELAY.labels(workflow.name).observe(max(0.0, (now - step.due).total_seconds()))
    return step.patch, step.wake_at
