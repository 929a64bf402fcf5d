"""One step of a workflow's schedule timer, decided purely: which fire time is due now (at most
one: no catchup), the status fields to write, and when to wake next.

Downtime: only the most recent missed fire time is started, and only within the starting
deadline. The schedule counts from when the workflow first had one (`scheduleSince`): never a
backfill before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from updraft.model.times import format_ts
from updraft.model.workflow import Workflow
from updraft.schedule import Schedule, latest_missed, next_due, next_fire


@dataclass(frozen=True)
class Tick:
    due: datetime | None  # create the run of this fire time
    patch: dict[str, Any] = field(default_factory=dict)  # status fields that change
    wake_at: datetime | None = None  # the next fire time (None: nothing scheduled)


def tick(workflow: Workflow, schedule: Schedule | None, now: datetime, starting_deadline: timedelta,
         at_capacity: bool = False) -> Tick:
    """`at_capacity`: the workflow has max_active_runs unfinished runs. As Airflow's scheduler does,
    no run is created then and the fire time is not consumed: when a run ends, the latest fire time
    still within the starting deadline gets its run (runs never pile up QUEUED behind a slow one)."""
    status = workflow.status
    if schedule is None:
        return Tick(None, {"nextScheduledTime": None} if status.get("nextScheduledTime") else {})
    baseline = workflow.schedule_since or now
    patch: dict[str, Any] = {} if workflow.schedule_since else {"scheduleSince": format_ts(baseline)}
    last = workflow.last_scheduled
    due = latest_missed(schedule, max(last or baseline, baseline), now, starting_deadline)
    if due is not None and at_capacity:
        nxt = next_fire(schedule, now)
        patch["nextScheduledTime"] = format_ts(nxt)
        return Tick(None, {k: v for k, v in patch.items() if status.get(k) != v}, nxt)
    if due is not None:
        patch["lastScheduledTime"] = format_ts(due)
        last = due
    # the next fire time owed, as Airflow picks it: around a DST gap a fire time shifted forward
    # (02:30 -> 03:30) can lie after `now` yet before next_fire(now)
    nxt = next_due(schedule, last or baseline, now)
    if nxt is not None and nxt <= now:  # handled above, or older than the starting deadline
        nxt = next_fire(schedule, now)
    patch["nextScheduledTime"] = format_ts(nxt)
    return Tick(due, {k: v for k, v in patch.items() if status.get(k) != v}, nxt)
