"""Scheduled runs: one timer per workflow that wakes at the exact next fire time and creates the
run for it. The run's name comes from (workflow, fire time), so a restart, a second replica or a
replayed watch can only ever create it once (AlreadyExists is success).

Downtime: no catchup. After an outage, only the most recent missed fire time is started, and only
if it is within the starting deadline (settings.schedule_starting_deadline_s)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from updraft import metrics
from updraft.handlers.context import Context, version_object_name
from updraft.podspec import naming
from updraft.schedule import Schedule, ScheduleError, latest_missed, next_due, next_fire, parse, scheduled_run_name


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(v: Any) -> datetime | None:
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")) if v else None


async def schedule_of(ctx: Context, workflow: Mapping[str, Any]) -> Schedule | None:
    """The schedule in force, or None (manual only, disabled, no valid version, no cron)."""
    spec, status = workflow["spec"], workflow.get("status") or {}
    if spec.get("triggerMode", "scheduled") != "scheduled" or not status.get("latestVersion"):
        return None
    graph = await ctx.graph(workflow["metadata"]["namespace"], workflow["metadata"]["name"], status["latestVersion"])
    if isinstance(graph, str) or graph.schedule is None:
        return None
    tz = spec.get("timezone") or graph.timezone or "UTC"
    try:
        return parse(graph.schedule, tz, graph.start_date, graph.end_date)
    except ScheduleError:
        return None


async def create_scheduled_run(ctx: Context, workflow: Mapping[str, Any], fire: datetime) -> bool:
    """True when this call created the run (False: it already existed)."""
    meta = workflow["metadata"]
    name = scheduled_run_name(meta["name"], fire)
    created = await ctx.kube.create({
        "apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
        "metadata": {"name": name, "namespace": meta["namespace"],
                     "labels": {naming.LABEL_MANAGED: naming.MANAGED_BY,
                                naming.LABEL_WORKFLOW: naming.label_value(meta["name"])},
                     "annotations": {"updraft.dev/scheduled-time": _ts(fire)}},
        "spec": {"workflowName": meta["name"], "runType": "SCHEDULED", "logicalDate": _ts(fire),
                 "workflowVersion": (workflow.get("status") or {}).get("latestVersion")},
    }, meta["namespace"])
    return not created.existed


async def tick(ctx: Context, workflow: Mapping[str, Any]) -> tuple[dict[str, Any], datetime | None, list[datetime]]:
    """One scheduler step: (status patch, when to wake next, fire times whose runs it created)."""
    now = ctx.now()
    status = workflow.get("status") or {}
    schedule = await schedule_of(ctx, workflow)
    if schedule is None:
        return ({"nextScheduledTime": None} if status.get("nextScheduledTime") else {}), None, []
    last = _time(status.get("lastScheduledTime"))
    # the schedule starts counting when the workflow first had a schedule: never backfill
    baseline = _time(status.get("scheduleSince")) or now
    patch: dict[str, Any] = {} if status.get("scheduleSince") else {"scheduleSince": _ts(baseline)}
    deadline = timedelta(seconds=ctx.settings.schedule_starting_deadline_s)
    created: list[datetime] = []
    due = latest_missed(schedule, max(last or baseline, baseline), now, deadline)
    if due is not None:
        if await create_scheduled_run(ctx, workflow, due):
            created.append(due)
            metrics.SCHEDULE_DELAY.labels(workflow["metadata"]["name"]).observe(max(0.0, (now - due).total_seconds()))
        patch["lastScheduledTime"] = _ts(due)
        last = due
    # the next fire time owed, as Airflow picks it: around a DST gap a fire time shifted forward
    # (02:30 -> 03:30) can lie after `now` yet before next_fire(now)
    nxt = next_due(schedule, last or baseline, now)
    if nxt is not None and nxt <= now:  # handled above, or older than the starting deadline
        nxt = next_fire(schedule, now)
    patch["nextScheduledTime"] = _ts(nxt) if nxt else None
    return {k: v for k, v in patch.items() if status.get(k) != v}, nxt, created
