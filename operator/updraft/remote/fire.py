"""A workflow's next fire times, from what GetWorkflow answers (pure; `now` is a parameter).

The cron is the API's ScheduleConfiguration.CronExpression. The API model has no time-zone
member, so the zone, start_date and end_date come from the definition the API returns
(WorkflowDefinition), read with the validator the operator uses, and the fire times with the
operator's own schedule code. A zone set on the Workflow object itself (spec.timezone, kubectl
only) is not visible through the API; the preview then uses the definition's zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from updraft.definition import validate
from updraft.schedule import ScheduleError, fire_times, parse

SCHEDULED = "scheduled"


@dataclass(frozen=True)
class FirePreview:
    cron: str | None
    timezone: str
    times: list[datetime] = field(default_factory=list)
    note: str | None = None  # why there are no (or fewer) fire times, or what was assumed


def preview(workflow: Mapping[str, Any], now: datetime, count: int) -> FirePreview:
    cron = ((workflow.get("ScheduleConfiguration") or {}).get("CronExpression") or "").strip() or None
    tz, start, end, note = "UTC", None, None, None
    definition = workflow.get("WorkflowDefinition")
    if isinstance(definition, str) and definition.strip():
        graph = validate(definition, now=now).graph
        if graph is not None:
            tz, start, end = graph.timezone or "UTC", graph.start_date, graph.end_date
        else:
            note = "the definition could not be read here; times shown in UTC"
    elif cron:
        note = "the API returned no definition; times shown in UTC"
    mode = str(workflow.get("TriggerMode") or SCHEDULED)
    if cron is None:
        return FirePreview(None, tz, [], "no schedule (runs start on demand only)")
    if mode != SCHEDULED:
        return FirePreview(cron, tz, [], f"trigger mode {mode}: the schedule does not start runs")
    if workflow.get("WorkflowStatus") == "DELETING":
        return FirePreview(cron, tz, [], "the workflow is being deleted")
    try:
        times = fire_times(parse(cron, tz, start, end), now, count)
    except ScheduleError as e:
        return FirePreview(cron, tz, [], f"cannot compute fire times: {e}")
    except (OverflowError, ValueError) as e:
        return FirePreview(cron, tz, [], f"cannot compute fire times: {e}")
    if len(times) < count:
        note = "; ".join(n for n in (note, "the schedule has no more fire times (@once done or past end_date)") if n)
    return FirePreview(cron, tz, times, note)
