"""Scheduled runs: one timer per workflow that wakes at the exact next fire time and creates the
run for it. The run's name comes from (workflow, fire time), so a restart, a second replica or a
replayed watch can only ever create it once (AlreadyExists is success). What is due is decided by
`plan.scheduling.tick`; this module reads the version and writes the run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from updraft import metrics
from updraft.errors import Permanent
from updraft.handlers.context import Context
from updraft.model import names
from updraft.model.times import format_ts
from updraft.model.workflow import Workflow
from updraft.plan import retention, scheduling
from updraft.plan.admission import active_runs
from updraft.plan.workflow import workflow_schedule
from updraft.schedule import Schedule, ScheduleError


async def schedule_of(ctx: Context, workflow: Workflow) -> tuple[Schedule | None, int]:
    """The schedule in force, or None (manual only, disabled, no valid version, no cron), and the
    version's max_active_runs."""
    if workflow.latest_version is None:
        return None, 0
    try:
        loaded = await ctx.versions.load(workflow.namespace, workflow.name, workflow.latest_version)
        return workflow_schedule(workflow, loaded.graph), loaded.graph.max_active_runs
    except (Permanent, ScheduleError):  # the workflow's conditions say why (its reconcile checked both)
        return None, 0


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


async def prune_runs(ctx: Context, workflow: Workflow) -> list[str]:
    """Delete the workflow's finished runs beyond its history limit or age (`plan.retention`);
    returns their names. What a run owns (pods, Secrets, XCom) goes with it."""
    keep = workflow.run_history_limit
    mine = await ctx.runs.of_workflow(workflow.namespace, workflow.name)
    doomed = retention.expired(mine, ctx.settings.run_history_limit if keep is None else keep,
                               timedelta(days=ctx.settings.run_max_age_days), ctx.now())
    for name in doomed:
        await ctx.kube.delete("WorkflowRun", name, workflow.namespace)
    return doomed


class Step(NamedTuple):
    patch: dict[str, Any]  # the workflow's status fields that change
    wake_at: datetime | None  # when to look again (the next fire time)
    created: bool  # this step created the run of a fire time


async def tick(ctx: Context, workflow: Workflow) -> Step:
    """One scheduler step: the run due (if any) created; the status to write and when to wake."""
    now = ctx.now()
    schedule, max_active_runs = await schedule_of(ctx, workflow)
    at_capacity = schedule is not None and active_runs(
        await ctx.runs.of_workflow(workflow.namespace, workflow.name), workflow.namespace, workflow.name) >= max_active_runs
    step = scheduling.tick(workflow, schedule, now, timedelta(seconds=ctx.settings.schedule_starting_deadline_s),
                           at_capacity)
    created = step.due is not None and await create_scheduled_run(ctx, workflow, step.due)
    if created and step.due is not None:
        metrics.SCHEDULE_DELAY.labels(workflow.name).observe(max(0.0, (now - step.due).total_seconds()))
    return Step(step.patch, step.wake_at, created)
