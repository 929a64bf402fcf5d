"""What each API command prints (pure): tables and detail views built from the API's answers;
`now` is a parameter (ages and running durations are relative to it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from updraft.model.states import RunState
from updraft.remote.follow import Change, task_label
from updraft.remote.render import EMPTY, age, clock_time, duration, fields, first_line, table, utc

if TYPE_CHECKING:  # the definition validator behind it is only loaded by `workflow get`
    from updraft.remote.fire import FirePreview

Obj = Mapping[str, Any]


def _when(t: datetime | None, now: datetime) -> str | None:
    return f"{utc(t)} ({age(t, now)} ago)" if t is not None else None


def workflows_table(workflows: Sequence[Obj], now: datetime, wide: bool = False) -> str:
    headers = ["NAME", "TRIGGER", "STATUS", "VERSION", "MODIFIED"] + (["ARN", "DESCRIPTION"] if wide else [])
    rows = []
    for w in sorted(workflows, key=lambda w: str(w.get("Name", ""))):
        row = [w.get("Name"), w.get("TriggerMode"), w.get("WorkflowStatus"), w.get("WorkflowVersion"),
               age(w.get("ModifiedAt") or w.get("CreatedAt"), now)]
        if wide:
            row += [w.get("WorkflowArn"), first_line(w.get("Description"), 60)]
        rows.append(row)
    return table(headers, rows)


def _s3(loc: Obj | None) -> str | None:
    if not loc:
        return None
    text = f"s3://{loc.get('Bucket')}/{loc.get('ObjectKey')}"
    return f"{text} (version {loc['VersionId']})" if loc.get("VersionId") else text


def workflow_text(w: Obj, fire: FirePreview, now: datetime) -> str:
    variables = sorted(((w.get("Environment") or {}).get("Variables") or {}).keys())
    head = fields([
        ("Name", w.get("Name")), ("ARN", w.get("WorkflowArn")), ("Status", w.get("WorkflowStatus")),
        ("Trigger mode", w.get("TriggerMode")), ("Version", w.get("WorkflowVersion")),
        ("Description", w.get("Description")), ("Created", _when(w.get("CreatedAt"), now)),
        ("Modified", _when(w.get("ModifiedAt"), now)), ("Role", w.get("RoleArn")),
        ("Log group", (w.get("LoggingConfiguration") or {}).get("LogGroupName")),
        ("Definition", _s3(w.get("DefinitionS3Location"))),
        ("Environment", ", ".join(variables) if variables else None),
        ("Schedule", f"{fire.cron} ({fire.timezone})" if fire.cron else "none"),
    ])
    lines = [head]
    if fire.times:
        lines.append("Next fire times:")
        lines += [f"  {fire_line(t, fire.timezone)}" for t in fire.times]
    if fire.note:
        lines.append(f"  ({fire.note})" if fire.times else f"Next fire times: none ({fire.note})")
    return "\n".join(lines)


def fire_line(t: datetime, tz_name: str) -> str:
    from updraft.schedule import zone

    local = t.astimezone(zone(tz_name))
    return f"{utc(t)}  {local.strftime('%a %Y-%m-%d %H:%M')} {local.tzname() or tz_name}"


def fire_json(fire: FirePreview) -> dict[str, Any]:
    return {"CronExpression": fire.cron, "Timezone": fire.timezone, "NextFireTimes": [utc(t) for t in fire.times],
            **({"Note": fire.note} if fire.note else {})}


def _run_duration(started: datetime | None, ended: datetime | None, now: datetime) -> str | None:
    if started is None:
        return None
    return duration(((ended or now) - started).total_seconds())


def runs_table(runs: Sequence[Obj], now: datetime) -> str:
    rows = []
    for r in runs:
        d = r.get("RunDetailSummary") or {}
        rows.append([r.get("RunId"), d.get("Status"), r.get("RunType"), r.get("WorkflowVersion"),
                     age(d.get("CreatedOn") or d.get("StartedAt"), now),
                     _run_duration(d.get("StartedAt"), d.get("EndedAt"), now)])
    return table(["RUN", "STATE", "TYPE", "VERSION", "AGE", "DURATION"], rows)


def _task_order(t: Obj) -> tuple[int, str, str]:
    started = t.get("StartedAt")
    return (0 if started else 1, utc(started) or "", str(t.get("TaskId") or t.get("TaskInstanceId") or ""))


def tasks_table(tasks: Sequence[Obj], run_id: str, now: datetime) -> str:
    """One row per task instance (GetTaskInstance's answers, or ListTaskInstances' summaries),
    in the order they started; tasks not started yet last, by id."""
    rows = []
    for t in sorted(tasks, key=_task_order):
        seconds = t.get("DurationInSeconds")
        shown = duration(seconds) if seconds is not None else _run_duration(t.get("StartedAt"), t.get("EndedAt"), now)
        rows.append([t.get("TaskId") or task_label(str(t.get("TaskInstanceId", "")), run_id), t.get("Status"),
                     t.get("AttemptNumber") or None, utc(t.get("StartedAt")), shown, t.get("OperatorName"),
                     first_line(t.get("ErrorMessage"), 70)])
    return table(["TASK", "STATE", "ATTEMPT", "STARTED", "DURATION", "OPERATOR", "ERROR"], rows)


def run_text(run: Obj, tasks: Sequence[Obj], now: datetime, workflow_name: str | None = None) -> str:
    d = run.get("RunDetail") or {}
    params = run.get("OverrideParameters")
    head = fields([
        ("Run", run.get("RunId")), ("Workflow", workflow_name or run.get("WorkflowArn")),
        ("ARN", run.get("WorkflowArn") if workflow_name else None),
        ("State", d.get("RunState")), ("Type", run.get("RunType")), ("Version", run.get("WorkflowVersion")),
        ("Created", _when(d.get("CreatedAt"), now)), ("Started", _when(d.get("StartedOn"), now)),
        ("Completed", _when(d.get("CompletedOn"), now)),
        ("Duration", duration(d["Duration"]) if d.get("Duration") is not None
         else _run_duration(d.get("StartedOn"), d.get("CompletedOn"), now)),
        ("Parameters", json.dumps(params, sort_keys=True) if params else None),
        ("Error", first_line(d.get("ErrorMessage"), 200)),
    ])
    body = tasks_table(tasks, str(run.get("RunId", "")), now) if tasks else "No task instances yet."
    return f"{head}\n\n{body}"


def started_text(run_id: str, status: str | None, workflow: str) -> str:
    return f"run {run_id} of workflow {workflow} started ({status or 'STARTING'})"


def run_seconds(run: Obj) -> float | None:
    """How long an ended run ran: the API's Duration, else CompletedOn - StartedOn."""
    d = run.get("RunDetail") or {}
    if d.get("Duration") is not None:
        return float(d["Duration"])
    started, completed = d.get("StartedOn"), d.get("CompletedOn")
    return (completed - started).total_seconds() if started and completed else None


def ended_text(run_id: str, state: str, seconds: float | None) -> str:
    took = f" after {duration(seconds)}" if seconds is not None else ""
    return f"run {run_id} ended {state}{took}"


def stopped_text(run_id: str, state: str) -> str:
    if state in RunState.FINAL:
        return f"run {run_id} had already ended {state}; nothing to stop"
    return f"run {run_id} is {state}"


def change_line(change: Change, at: datetime, run_id: str, detail: Obj | None = None) -> str:
    """One --watch line: `09:31:07Z  extract   RUNNING` (attempt and error when known)."""
    subject = f"task {change.task}" if change.task is not None else f"run {run_id}"
    extra = ""
    if detail:
        attempt = detail.get("AttemptNumber")
        if attempt and change.new not in ("NONE", "SCHEDULED", "QUEUED"):
            extra += f" (attempt {attempt})"
        error = first_line(detail.get("ErrorMessage"), 120)
        if error:
            extra += f": {error}"
    return f"{clock_time(at)}  {subject}  {change.old or EMPTY} -> {change.new}{extra}"


def change_json(change: Change, at: datetime, run_id: str, detail: Obj | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Event": "StateChanged", "Time": at, "RunId": run_id, "TaskId": change.task,
                           "From": change.old, "To": change.new}
    if detail:
        out.update({k: detail[k] for k in ("AttemptNumber", "ErrorMessage") if detail.get(k) is not None})
    return out
