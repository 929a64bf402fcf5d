"""The console's pages as HTML (pure: built from the API's answers, no I/O, no clock; `now` is a
parameter). Every value from a workflow, a run or a caller is escaped here, in one place.

A page whose content can still change (a run not final, a task attempt running) carries
`data-live` on its <main>; the page's script then fetches the same URL every few seconds and
swaps <main>, and stops once an answer no longer has it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from updraft.model.states import RunState, TaskState

Obj = Mapping[str, Any]
STATIC = "/ui/static"


def e(value: Any) -> str:
    return escape("" if value is None else str(value))


def when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%SZ") if isinstance(t, datetime) else ""


def fire_when(t: datetime, tz: str) -> str:
    """A fire time in the schedule's own zone (as `updraft workflow get` shows them)."""
    try:
        return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")
    except (ZoneInfoNotFoundError, ValueError):
        return when(t)


def seconds(value: float | int | None) -> str:
    if value is None:
        return ""
    s = int(value)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def state_badge(state: str | None) -> str:
    s = state or "NONE"
    return f'<span class="state s-{e(s.lower().replace("_", "-"))}">{e(s)}</span>'


def run_final(state: str | None) -> bool:
    return state in RunState.FINAL


def task_final(state: str | None) -> bool:
    return state in TaskState.FINAL or state == TaskState.NONE


# -- urls ------------------------------------------------------------------------------------------

def workflow_url(wid: str, **query: str) -> str:
    return f"/ui/workflows/{quote(wid, safe='')}" + (f"?{urlencode(query)}" if query else "")


def run_url(wid: str, run_id: str) -> str:
    return f"{workflow_url(wid)}/runs/{quote(run_id, safe='')}"


def task_url(wid: str, run_id: str, task_id: str, attempt: int | None = None) -> str:
    return f"{run_url(wid, run_id)}/tasks/{quote(task_id, safe='')}" + (f"?attempt={attempt}" if attempt else "")


# -- the frame -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """Who is looking, and what every page's header needs."""

    principal_arn: str
    csrf_token: str
    signed_in: bool  # False: the API runs without authentication (no sign-out)


LIVE_SECONDS = 3  # how often a live page refreshes itself
LIST_LIVE_SECONDS = 10  # the workflows page reads two operations per workflow: less often


def page(frame: Frame, title: str, body: str, *, live: bool = False, crumbs: Sequence[tuple[str, str]] = (),
         every: int = LIVE_SECONDS) -> str:
    trail = " / ".join(f'<a href="{e(href)}">{e(text)}</a>' for href, text in crumbs)
    live_attribute = f' data-live="{every}"' if live else ""
    sign_out = (f'<form method="post" action="/ui/logout" class="inline">{csrf_field(frame)}'
                '<button type="submit">Sign out</button></form>') if frame.signed_in else '<em>no authentication</em>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)} - Updraft</title>'
        f'<link rel="icon" href="{STATIC}/favicon.svg"><link rel="stylesheet" href="{STATIC}/console.css">'
        f'<script src="{STATIC}/console.js" defer></script></head><body><header><a class="brand" href="/ui/">Updraft</a><nav>{trail}</nav>'
        f'<span class="who" title="{e(frame.principal_arn)}">{e(frame.principal_arn.rsplit("/", 1)[-1])}</span>'
        f'{sign_out}</header><main id="main"{live_attribute}><h1>{e(title)}</h1>{body}</main></body></html>')


def csrf_field(frame: Frame) -> str:
    return f'<input type="hidden" name="csrf" value="{e(frame.csrf_token)}">'


def message_page(frame: Frame, title: str, text: str) -> str:
    return page(frame, title, f'<p class="error">{e(text)}</p><p><a href="/ui/">All workflows</a></p>')


def bare_page(title: str, body: str) -> str:
    """A page outside a session (sign-in, launch)."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{e(title)} - Updraft</title><link rel="icon" href="{STATIC}/favicon.svg">'
            f'<link rel="stylesheet" href="{STATIC}/console.css">'
            f'<script src="{STATIC}/console.js" defer></script></head>'
            f'<body><header><span class="brand">Updraft</span></header><main><h1>{e(title)}</h1>{body}</main></body></html>')


def launch_page() -> str:
    return bare_page("Signing in", '<form id="launch" method="post" action="/ui/session">'
                     '<input type="hidden" name="token" id="launch-token" value="">'
                     '<noscript><p>Signing in needs JavaScript: the launch token is in the URL fragment, '
                     'which the browser keeps to itself.</p></noscript>'
                     '<p>Signing in...</p></form>')


def signed_out_page(reason: str) -> str:
    return bare_page("Sign in", f'<p>{e(reason)}</p><p>Get a launch URL with <code>updraft ui</code> '
                     '(or CreateAirflowUiUrl with your AWS credentials), then open it.</p>')


# -- workflows ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkflowRow:
    wid: str
    summary: Obj
    cron: str | None = None
    timezone: str = "UTC"
    next_fires: Sequence[datetime] = ()
    runs: Sequence[Obj] = ()  # ListWorkflowRuns summaries, newest first
    note: str | None = None  # what could not be shown (denied, failed)
    tags: Mapping[str, str] = field(default_factory=dict)  # ListTagsForResource (empty when not allowed)


def matches(query: str, name: object, tags: Mapping[str, str]) -> bool:
    """The workflows filter: the text in the name, or in a tag written `key=value`, ignoring case."""
    q = query.lower()
    return q in str(name or "").lower() or any(q in f"{k}={v}".lower() for k, v in tags.items())


def tag_chips(tags: Mapping[str, str]) -> str:
    return "".join(f'<span class="tag">{e(k)}={e(v)}</span>' for k, v in sorted(tags.items()))


def run_cells(wid: str, runs: Sequence[Obj]) -> str:
    cells = []
    for r in reversed(list(runs)):
        state = (r.get("RunDetailSummary") or {}).get("Status")
        cells.append(f'<a class="cell s-{e(str(state or "none").lower().replace("_", "-"))}" '
                     f'href="{e(run_url(wid, r["RunId"]))}" title="{e(r["RunId"])}: {e(state)}"></a>')
    return f'<span class="cells">{"".join(cells)}</span>'


def workflows_page(frame: Frame, rows: Sequence[WorkflowRow], query: str, next_token: str | None) -> str:
    live = any(not run_final((r.get("RunDetailSummary") or {}).get("Status")) for row in rows for r in row.runs)
    filt = (f'<form method="get" action="/ui/" class="filter"><input type="search" name="q" value="{e(query)}" '
            'placeholder="filter by name or tag (key=value)"><button type="submit">Filter</button></form>')
    body = [filt, '<table class="list"><thead><tr><th>Workflow</th><th>Status</th><th>Trigger</th><th>Schedule</th>'
            '<th>Next fire times</th><th>Last runs</th><th>Tags</th></tr></thead><tbody>']
    for row in rows:
        s = row.summary
        schedule = f'<code>{e(row.cron)}</code> {e(row.timezone)}' if row.cron else "on demand"
        fires = "<br>".join(e(fire_when(t, row.timezone)) for t in row.next_fires[:3])
        body.append(f'<tr data-workflow="{e(s.get("Name"))}"><td><a href="{e(workflow_url(row.wid))}">{e(s.get("Name"))}</a>'
                    f'{f"<div class=note>{e(row.note)}</div>" if row.note else ""}</td>'
                    f'<td>{e(s.get("WorkflowStatus"))}</td><td>{e(s.get("TriggerMode"))}</td><td>{schedule}</td>'
                    f'<td class="times">{fires}</td><td>{run_cells(row.wid, row.runs)}</td>'
                    f'<td class="tags">{tag_chips(row.tags)}</td></tr>')
    body.append("</tbody></table>")
    if not rows:
        body.append("<p>No workflows match.</p>")
    if next_token:
        body.append(f'<p><a rel="next" href="/ui/?{e(urlencode({"q": query, "next": next_token}))}">Next page</a></p>')
    return page(frame, "Workflows", "".join(body), live=live, crumbs=[("/ui/", "Workflows")], every=LIST_LIVE_SECONDS)


# -- a workflow --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkflowPage:
    wid: str
    detail: Obj  # GetWorkflow
    cron: str | None
    timezone: str
    next_fires: Sequence[datetime]
    runs: Sequence[Obj]  # newest first
    grid: Mapping[str, Mapping[str, str]]  # run id -> task id -> state
    task_order: Sequence[str]
    svg: str
    versions: Sequence[Obj]
    params: Mapping[str, Any]
    client_token: str
    can_start: bool = True
    notes: Sequence[str] = field(default_factory=tuple)


def param_default(value: Any) -> Any:
    """A definition param's default: the value itself, or a Param-like mapping's `default`."""
    if isinstance(value, Mapping) and "default" in value:
        return value["default"]
    return value


def param_text(value: Any) -> str:
    v = param_default(value)
    return v if isinstance(v, str) else json.dumps(v)


def start_form(frame: Frame, wid: str, params: Mapping[str, Any], client_token: str) -> str:
    fields = "".join(f'<label>{e(k)} <input name="param.{e(k)}" value="{e(param_text(v))}"></label>'
                     for k, v in params.items())
    return (f'<form method="post" action="{e(workflow_url(wid))}/runs" class="start" id="start-run">{csrf_field(frame)}'
            f'<input type="hidden" name="client_token" value="{e(client_token)}">'
            f'{fields or "<span>(no params)</span>"}<button type="submit">Start run</button></form>')


def grid(wid: str, runs: Sequence[Obj], states: Mapping[str, Mapping[str, str]], order: Sequence[str]) -> str:
    columns = list(reversed(list(runs)))  # oldest left, as Airflow's grid
    head = "".join(f'<th><a href="{e(run_url(wid, r["RunId"]))}" title="{e(r["RunId"])}">'
                   f'{state_badge((r.get("RunDetailSummary") or {}).get("Status"))}</a></th>' for r in columns)
    rows = []
    for task in order:
        cells = []
        for r in columns:
            state = (states.get(r["RunId"]) or {}).get(task)
            cls = "s-" + (state or "none").lower().replace("_", "-")
            cells.append(f'<td><a class="cell {e(cls)}" href="{e(task_url(wid, r["RunId"], task))}" '
                         f'title="{e(task)} in {e(r["RunId"])}: {e(state or "no state")}"></a></td>')
        rows.append(f'<tr><th class="task">{e(task)}</th>{"".join(cells)}</tr>')
    return f'<table class="grid"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def workflow_page(frame: Frame, p: WorkflowPage) -> str:
    d = p.detail
    live = any(not run_final((r.get("RunDetailSummary") or {}).get("Status")) for r in p.runs)
    schedule = f'<code>{e(p.cron)}</code> in {e(p.timezone)}' if p.cron else "none (on demand)"
    fires = ", ".join(e(fire_when(t, p.timezone)) for t in p.next_fires) or "none"
    facts = [("Status", e(d.get("WorkflowStatus"))), ("Trigger mode", e(d.get("TriggerMode"))),
             ("Schedule", schedule), ("Next fire times", fires), ("Version", f'<code>{e(d.get("WorkflowVersion"))}</code>'),
             ("Role", e(d.get("RoleArn"))), ("ARN", f'<code>{e(d.get("WorkflowArn"))}</code>')]
    body = ['<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"]
    body += [f'<p class="note">{e(n)}</p>' for n in p.notes]
    if p.can_start:
        body.append(start_form(frame, p.wid, p.params, p.client_token))
    body.append(f'<h2>Last runs by task</h2>{grid(p.wid, p.runs, p.grid, p.task_order)}' if p.runs
                else "<h2>Runs</h2><p>No runs yet.</p>")
    body.append(f'<h2>Graph</h2><div class="graph-box">{p.svg}</div>')
    body.append('<h2>Versions</h2><table class="list"><thead><tr><th>Version</th><th>Created</th><th>Latest</th>'
                '</tr></thead><tbody>' + "".join(
                    f'<tr><td><a href="{e(workflow_url(p.wid, version=v["WorkflowVersion"]))}"><code>'
                    f'{e(v["WorkflowVersion"])}</code></a></td><td>{e(when(v.get("CreatedAt")))}</td>'
                    f'<td>{"yes" if v.get("IsLatestVersion") else ""}</td></tr>' for v in p.versions) + "</tbody></table>")
    body.append(f'<h2>Definition</h2><pre class="definition">{e(d.get("WorkflowDefinition"))}</pre>')
    return page(frame, str(d.get("Name")), "".join(body), live=live,
                crumbs=[("/ui/", "Workflows"), (workflow_url(p.wid), str(d.get("Name")))])


# -- a run -------------------------------------------------------------------------------------------

def events_table(events: Sequence[Obj] | None) -> str:
    """A run's events, newest first (None: the caller may not read them, or they could not be read)."""
    if events is None:
        return "<h2>Events</h2><p>Events are not shown.</p>"
    if not events:
        return "<h2>Events</h2><p>No events (the cluster keeps them for about an hour).</p>"
    rows = "".join(f'<tr class="ev-{e(str(ev.get("Type", "")).lower())}"><td>{e(ev.get("At"))}</td><td>{e(ev.get("Type"))}</td>'
                   f'<td>{e(ev.get("Reason"))}</td><td>{e(ev.get("Message"))}</td>'
                   f'<td>{e(ev.get("Count")) if int(ev.get("Count") or 1) > 1 else ""}</td></tr>' for ev in events)
    return ('<h2>Events</h2><table class="list events"><thead><tr><th>When</th><th>Type</th><th>Reason</th>'
            f'<th>Message</th><th>Times</th></tr></thead><tbody>{rows}</tbody></table>')


def run_page(frame: Frame, wid: str, name: str, run: Obj, tasks: Sequence[Obj], svg: str, can_stop: bool,
             events: Sequence[Obj] | None = None) -> str:
    detail = run.get("RunDetail") or {}
    state = detail.get("RunState")
    run_id = str(run.get("RunId"))
    facts = [("State", state_badge(state)), ("Type", e(run.get("RunType"))),
             ("Version", f'<code>{e(run.get("WorkflowVersion"))}</code>'), ("Created", e(when(detail.get("CreatedAt")))),
             ("Started", e(when(detail.get("StartedOn")))), ("Ended", e(when(detail.get("CompletedOn")))),
             ("Duration", e(seconds(detail.get("Duration"))))]
    if run.get("OverrideParameters"):
        facts.append(("Parameters", f'<code>{e(json.dumps(run["OverrideParameters"], default=str))}</code>'))
    body = ['<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"]
    if detail.get("ErrorMessage"):
        body.append(f'<p class="error">{e(detail["ErrorMessage"])}</p>')
    if can_stop and not run_final(state):
        body.append(f'<form method="post" action="{e(run_url(wid, run_id))}/stop" id="stop-run">{csrf_field(frame)}'
                    '<button type="submit" class="danger">Stop run</button></form>')
    body.append(f'<h2>Graph</h2><div class="graph-box">{svg}</div>')
    rows = []
    for t in tasks:
        task_id = str(t.get("TaskId"))
        rows.append(f'<tr data-task="{e(task_id)}"><td><a href="{e(task_url(wid, run_id, task_id))}">{e(task_id)}</a></td>'
                    f'<td>{state_badge(t.get("Status"))}</td><td>{e(t.get("AttemptNumber"))}</td>'
                    f'<td>{e(when(t.get("StartedAt")))}</td><td>{e(when(t.get("EndedAt")))}</td>'
                    f'<td>{e(seconds(t.get("DurationInSeconds")))}</td><td>{e(t.get("OperatorName"))}</td>'
                    f'<td class="error">{e(t.get("ErrorMessage"))}</td></tr>')
    body.append('<h2>Tasks</h2><table class="list tasks"><thead><tr><th>Task</th><th>State</th><th>Attempt</th>'
                '<th>Started</th><th>Ended</th><th>Duration</th><th>Operator</th><th>Error</th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>')
    body.append(events_table(events))
    return page(frame, f"Run {run_id}", "".join(body), live=not run_final(state),
                crumbs=[("/ui/", "Workflows"), (workflow_url(wid), name), (run_url(wid, run_id), run_id)])


# -- a task attempt ------------------------------------------------------------------------------------

def task_page(frame: Frame, wid: str, name: str, run_id: str, task: Obj, attempt: int, log_source: str,
              log_note: str, log_text: str) -> str:
    task_id = str(task.get("TaskId"))
    latest = int(task.get("AttemptNumber") or 0)
    state = task.get("Status")
    live = attempt == latest and not task_final(state)
    attempts = " ".join(f'<a href="{e(task_url(wid, run_id, task_id, n))}"{" class=current" if n == attempt else ""}>'
                        f'{n}</a>' for n in range(1, latest + 1))
    facts = [("State", state_badge(state)), ("Attempts", attempts or "none yet"), ("Operator", e(task.get("OperatorName"))),
             ("Started", e(when(task.get("StartedAt")))), ("Ended", e(when(task.get("EndedAt")))),
             ("Log stream", f'<code>{e(task.get("LogStream"))}</code>')]
    body = ['<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"]
    if task.get("ErrorMessage"):
        body.append(f'<p class="error">{e(task["ErrorMessage"])}</p>')
    body.append(f'<h2>Log of attempt {attempt}</h2><p class="source">Source: <strong>{e(log_source)}</strong> - '
                f'{e(log_note)}</p><pre class="log" id="log">{e(log_text)}</pre>')
    xcom = task.get("Xcom") or {}
    if xcom:
        body.append('<h2>XCom</h2><table class="list"><tbody>' + "".join(
            f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>" for k, v in sorted(xcom.items())) + "</tbody></table>")
    return page(frame, f"{task_id} (attempt {attempt})", "".join(body), live=live,
                crumbs=[("/ui/", "Workflows"), (workflow_url(wid), name), (run_url(wid, run_id), run_id),
                        (task_url(wid, run_id, task_id, attempt), task_id)])
