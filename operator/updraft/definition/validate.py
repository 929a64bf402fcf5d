"""The definition validator: YAML text of one workflow -> a TaskGraph and warnings, or every error.

One implementation for the operator, the API and the CLI. Pure: no I/O, and no clock (`now` is a
parameter; without it the "start_date in the past" warning is skipped).

Two input forms are accepted:
- dag-factory's, as the MWAA converter writes it: one top-level key (the dag id) holding the DAG;
- the simplified form the MWAA Serverless guide shows: `dag_id`, `tasks`, `depends_on`, ... at the
  top level, short operator names, `schedule_interval`.
Both give the same graph, and `TaskGraph.normalized` is always dag-factory's form.

Choices where the guide, dag-factory and the converter leave room:
- a bare number for execution_timeout is read as seconds and normalised to the timedelta form
  (dag-factory alone rejects it; retry_delay, poke_interval and timeout take numbers there too);
- a parameter the guide lists as ignored is dropped; it warns only when its value differs from
  Airflow's default, because the converter writes many of them (owner, priority_weight, outlets,
  catchup, dag_display_name ...) out with default values into every file;
- trigger_rule, retry_exponential_backoff and max_retry_delay are honoured, not ignored;
- aws_conn_id becomes None (the task uses the workflow's role), deferrable becomes false;
- `$NAME` stays as written (a warning says dag-factory would have expanded it);
- presets are exactly those the scheduler fires (updraft.schedule), so @midnight is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any


from updraft.definition import graph as g
from updraft.definition import parameters, values
from updraft.definition.limits import Limits
from updraft.definition.loader import LoadError, load
from updraft.definition.model import Issue, Task, TaskGraph, ValidationResult
from updraft.definition.tasks import Defaults, TaskDraft, check_task, json_safe, passthrough, warn_env_refs
from updraft.schedule.errors import ScheduleError
from updraft.schedule.fire_times import ONCE, check_cron
from updraft.schedule.fire_times import PRESETS as SCHEDULE_PRESETS

DAG_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
# Exactly the presets the scheduler fires (Airflow's cron_presets, @annually, and @once); croniter
# also knows @midnight, but a definition the scheduler cannot fire must not validate.
PRESETS = (ONCE, *SCHEDULE_PRESETS)
RESERVED_TOP = "default"  # dag-factory: settings shared by every DAG of the file


class _Report:
    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    # A default_args value reaches many tasks but is reported once, where it was written.
    def error(self, path: str, rule: str, message: str) -> None:
        if (issue := Issue(path, rule, message)) not in self.errors:
            self.errors.append(issue)

    def warn(self, path: str, rule: str, message: str) -> None:
        if (issue := Issue(path, rule, message)) not in self.warnings:
            self.warnings.append(issue)


def validate(text: str, *, limits: Limits = Limits(), now: datetime | None = None) -> ValidationResult:
    r = _Report()
    size = len(text.encode("utf-8"))
    if size > limits.max_definition_bytes:
        r.error("definition", "definition-size",
                f"the definition is {size} bytes; the limit is {limits.max_definition_bytes} bytes (50 KB)")
        return ValidationResult(None, tuple(r.errors))
    try:
        data = load(text)
    except LoadError as e:
        where = f"line {e.line}: " if e.line else ""
        r.error("definition", "yaml", f"{where}{e.message}")
        return ValidationResult(None, tuple(r.errors))
    split = _split(data, r)
    if split is None:
        return ValidationResult(None, tuple(r.errors), tuple(r.warnings))
    dag_id, conf, prefix = split
    result = _check_dag(dag_id, conf, prefix, limits, now, r)
    _refuse_typed_anywhere(data, r)
    if r.errors:
        return ValidationResult(None, tuple(r.errors), tuple(r.warnings))
    return ValidationResult(result, (), tuple(r.warnings))


def _refuse_typed_anywhere(data: Any, r: _Report) -> None:
    """A disallowed `__type__` is an error wherever it is, used or not (values.typed_problems);
    those the checks above reported already are not repeated."""
    reported = {(i.path, i.rule) for i in r.errors}
    for path, rule, message in values.typed_problems(data):
        if (path, rule) not in reported:
            r.error(path, rule, message)


def _split(data: Any, r: _Report) -> tuple[str, dict[str, Any], str] | None:
    """(dag_id, DAG settings, path prefix) from either form."""
    if not isinstance(data, dict):
        r.error("definition", "definition-form", "the definition must be a YAML mapping")
        return None
    if "tasks" in data or "dag_id" in data:  # the guide's simplified form
        dag_id = data.get("dag_id")
        if not isinstance(dag_id, str) or not dag_id:
            r.error("dag_id", "dag-id", "dag_id must be a non-empty string")
            return None
        return dag_id, dict(data), ""
    top = data.get(RESERVED_TOP)
    shared: dict[Any, Any] = top if isinstance(top, dict) else {}
    dags = {k: v for k, v in data.items() if k != RESERVED_TOP}
    if len(dags) != 1:
        found = ", ".join(map(str, dags)) or "none"
        r.error("definition", "one-dag", f"a workflow holds exactly one DAG; found {len(dags)} ({found})")
        return None
    (dag_id, conf), = dags.items()
    if isinstance(dag_id, bool) or dag_id is None:
        r.error("definition", "dag-id", f"the dag id reads as {dag_id} in YAML (yes/no/on/off/true/false/null "
                                         "are not strings): quote it, e.g. 'off':")
        return None
    if not isinstance(dag_id, str) or not isinstance(conf, dict):
        r.error(str(dag_id), "definition-form", "the DAG must be a mapping under its dag id")
        return None
    merged = {**shared, **conf}
    if "default_args" in shared and "default_args" in conf:
        merged["default_args"] = {**shared["default_args"], **conf["default_args"]}
    inner = merged.get("dag_id", dag_id)
    if inner != dag_id:
        r.error(f"{dag_id}.dag_id", "dag-id-mismatch", f"dag_id {inner!r} differs from its key {dag_id!r}")
    return dag_id, merged, f"{dag_id}."


def _check_dag(dag_id: str, conf: dict[str, Any], px: str, limits: Limits, now: datetime | None,
               r: _Report) -> TaskGraph | None:
    if not DAG_ID.match(dag_id):
        r.error(f"{px}dag_id", "dag-id", "dag_id must be 1-250 letters, digits, '.', '-' or '_'")

    # time zone first: it gives naive dates their meaning
    tz_name = conf.get("timezone")
    tz = None
    if tz_name is not None:
        if not isinstance(tz_name, str):
            r.error(f"{px}timezone", "timezone", "timezone must be an IANA name such as Europe/Paris")
            tz_name = None
        else:
            try:
                tz = values.zone(tz_name)
            except values.ValueProblem as p:
                r.error(f"{px}timezone", p.rule, p.message)
                tz_name = None

    defaults_raw = conf.get("default_args") or {}
    if not isinstance(defaults_raw, dict):
        r.error(f"{px}default_args", "default-args-form", "default_args must be a mapping")
        defaults_raw = {}

    dates: dict[str, datetime | None] = {}
    for key in ("start_date", "end_date"):
        raw = conf.get(key, defaults_raw.get(key))
        dates[key] = None
        if raw is not None:
            path = f"{px}{key}" if key in conf else f"{px}default_args.{key}"
            try:
                dates[key] = values.to_datetime(raw, tz)
            except values.ValueProblem as p:
                r.error(path, p.rule, p.message)
    start, end = dates["start_date"], dates["end_date"]
    if start and end and end < start:
        r.error(f"{px}end_date", "end-before-start", "end_date must be after or equal to start_date")
    if start and now and start < now:
        r.warn(f"{px}start_date", "start-date-past",
               "start_date is in the past; the schedule starts from the next fire time (no catchup)")

    schedule = _schedule(conf, px, r)

    mar = conf.get("max_active_runs", limits.default_max_active_runs)
    if isinstance(mar, bool) or not isinstance(mar, int) or not 1 <= mar <= limits.max_active_runs_limit:
        r.error(f"{px}max_active_runs", "max-active-runs",
                f"max_active_runs must be a whole number from 1 to {limits.max_active_runs_limit}, got {mar!r}")
        mar = limits.default_max_active_runs

    params = conf.get("params") or {}
    if not isinstance(params, dict):
        r.error(f"{px}params", "params-form", "params must be a mapping of names to plain values")
        params = {}
    params = json_safe(params, f"{px}params", r.error)
    warn_env_refs(params, f"{px}params", r.warn)

    for key, value in conf.items():
        path = f"{px}{key}"
        if key in parameters.DAG_USED or key in ("schedule_interval", "dag_id"):
            continue
        if parameters.refuses_code(key):
            r.error(path, "code-reference", f"{key} would load Python code or files, which workflows may not do")
        elif key in parameters.DAG_IGNORED:
            default = dag_id if key == "dag_display_name" else parameters.DAG_IGNORED[key]
            if not (parameters.is_default(parameters.DAG_IGNORED, key, value) or value == default):
                r.warn(path, "ignored-parameter", f"{key} is not supported by MWAA Serverless and is ignored")
        else:
            r.error(path, "unknown-parameter", f"{key!r} is not a DAG parameter Updraft knows")

    defaults = _check_default_args(defaults_raw, f"{px}default_args", r)
    groups = _check_groups(conf.get("task_groups"), px, r)
    dag_defaults = passthrough(defaults, r.error, r.warn)
    group_defaults = {name: passthrough(grp.default_args, r.error, r.warn) for name, grp in groups.items()}
    drafts = _check_tasks(conf.get("tasks"), px, defaults, groups, dates, limits, r)
    if drafts is None:
        return None
    upstream = _resolve(drafts, groups, px, r)
    if upstream is None or r.errors:
        return None

    order = g.topological(upstream)
    by_id = {g.final_task_id(d.key, d.group, groups): d for d in drafts.values()}
    tasks = {tid: _task(tid, by_id[tid], upstream[tid]) for tid in order}
    normalized = _normalized(dag_id, params, schedule, start, end, tz_name, mar, drafts, groups, dag_defaults,
                             group_defaults)
    return TaskGraph(dag_id=dag_id, tasks=tasks, schedule=schedule, timezone=tz_name, start_date=start,
                     end_date=end, max_active_runs=mar, params=params, normalized=normalized)


def _schedule(conf: dict[str, Any], px: str, r: _Report) -> str | None:
    key = "schedule"
    if "schedule_interval" in conf:
        if "schedule" in conf:
            r.error(f"{px}schedule_interval", "schedule-twice", "give schedule or schedule_interval, not both")
        else:
            r.warn(f"{px}schedule_interval", "schedule-interval",
                   "schedule_interval is Airflow 2's name; read as schedule (Airflow 3 accepts only schedule)")
        key = "schedule_interval"
    raw = conf.get(key)
    path = f"{px}{key}"
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "none"):
        return None
    if not isinstance(raw, str):
        r.error(path, "schedule", "schedule must be a cron expression (5 fields), a preset such as @daily, or None")
        return None
    expr = " ".join(raw.split())
    if expr.startswith("@"):
        if expr not in PRESETS:
            r.error(path, "schedule", f"unknown schedule preset {expr!r} (one of: {', '.join(PRESETS)})")
            return None
        return expr
    try:
        check_cron(expr)
    except ScheduleError as e:
        r.error(path, "schedule", e.message)
        return None
    return expr


def _check_default_args(raw: dict[str, Any], path: str, r: _Report) -> Defaults:
    """default_args (the DAG's or a task group's), with ignored keys reported once here rather
    than on every task; each kept value remembers where it was written."""
    out: Defaults = {}
    for key, value in raw.items():
        kp = f"{path}.{key}"
        if key in ("start_date", "end_date"):
            continue  # DAG-level dates (handled above)
        if parameters.refuses_code(key):
            r.error(kp, "code-reference", f"{key} would make dag-factory load or run Python code, "
                                          "which workflows may not do")
        elif key in parameters.TASK_IGNORED:
            if not parameters.is_default(parameters.TASK_IGNORED, key, value):
                r.warn(kp, "ignored-parameter", f"{key} is not supported by MWAA Serverless and is ignored")
        else:
            out[str(key)] = (value, kp)
    return out


# Task group keys: structure, default_args (honoured), and display-only ones (dropped).
_GROUP_KEYS = {"group_name", "parent_group_name", "prefix_group_id", "dependencies", "default_args", "tooltip",
               "ui_color", "ui_fgcolor", "group_display_name"}


def _check_groups(raw: Any, px: str, r: _Report) -> dict[str, g.Group]:
    groups: dict[str, g.Group] = {}
    if raw is None:
        return groups
    items: list[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [(c.get("group_name"), c) if isinstance(c, dict) else (None, c) for c in raw]
    else:
        r.error(f"{px}task_groups", "task-groups-form", "task_groups must be a mapping or a list of groups")
        return groups
    for name, c in items:
        path = f"{px}task_groups.{name}"
        if not isinstance(name, str) or not isinstance(c, dict):
            r.error(path, "task-groups-form", "each task group needs a group_name and a mapping of settings")
            continue
        if name in groups:
            r.error(path, "duplicate-group", f"task group {name!r} is defined twice")
            continue
        for key in c:
            if key not in _GROUP_KEYS:
                r.error(f"{path}.{key}", "unknown-parameter", f"{key!r} is not a task group parameter Updraft knows")
        group_defaults = c.get("default_args") or {}
        if not isinstance(group_defaults, dict):
            r.error(f"{path}.default_args", "default-args-form", "default_args must be a mapping")
            group_defaults = {}
        deps = c.get("dependencies") or []
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            r.error(f"{path}.dependencies", "dependencies-form", "dependencies must be a list of names")
            deps = []
        parent = c.get("parent_group_name")
        prefix = c.get("prefix_group_id", True)
        groups[name] = g.Group(name, parent if isinstance(parent, str) else None, bool(prefix), list(deps),
                               _check_default_args(group_defaults, f"{path}.default_args", r))
    for name, grp in groups.items():
        if grp.parent is not None and grp.parent not in groups:
            r.error(f"{px}task_groups.{name}.parent_group_name", "unknown-group", f"no task group named {grp.parent!r}")
    cycle = g.group_cycle(groups)
    if cycle:
        r.error(f"{px}task_groups", "group-cycle", "task groups nest in a cycle: " + " -> ".join(cycle))
    return groups


def _check_tasks(raw: Any, px: str, defaults: Defaults, groups: dict[str, g.Group], dates: dict[str, Any],
                 limits: Limits, r: _Report) -> dict[str, TaskDraft] | None:
    if raw is None or raw == {} or raw == []:
        r.error(f"{px}tasks", "tasks-required", "a workflow needs at least one task")
        return None
    entries: list[tuple[Any, Any, str]] = []
    if isinstance(raw, dict):
        entries = [(k, v, f"{px}tasks.{k}") for k, v in raw.items()]
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            tid = item.get("task_id") if isinstance(item, dict) else None
            entries.append((tid, item, f"{px}tasks[{i}]" if tid is None else f"{px}tasks.{tid}"))
    else:
        r.error(f"{px}tasks", "tasks-form", "tasks must be a mapping of task ids, or a list of tasks with task_id")
        return None
    if len(entries) > limits.max_tasks:
        r.error(f"{px}tasks", "too-many-tasks", f"{len(entries)} tasks; the limit is {limits.max_tasks}")
        return None
    drafts: dict[str, TaskDraft] = {}
    for key, conf, path in entries:
        if not isinstance(key, str) or not key or not DAG_ID.match(key):
            r.error(path if key is not None else f"{path}.task_id", "task-id",
                    "task_id must be 1-250 letters, digits, '.', '-' or '_'")
            continue
        if key in drafts:
            r.error(path, "duplicate-task", f"task id {key!r} is used twice")
            continue
        group = conf.get("task_group_name") if isinstance(conf, dict) else None
        inherited = dict(defaults)
        for name in g.group_chain(groups, group if isinstance(group, str) else None):  # outermost first
            inherited.update(groups[name].default_args)
        d = check_task(key, conf, path, inherited, dates, limits, r.error, r.warn)
        if d is not None:
            drafts[key] = d
    return drafts


def _resolve(drafts: dict[str, TaskDraft], groups: dict[str, g.Group], px: str,
             r: _Report) -> dict[str, set[str]] | None:
    """Final task id -> upstream final ids, with groups expanded; None on a broken graph."""
    task_groups = {k: d.group for k, d in drafts.items()}
    for k, d in drafts.items():
        if d.group is not None and d.group not in groups:
            r.error(f"{px}tasks.{k}.task_group_name", "unknown-group", f"no task group named {d.group!r}")
    fid = {k: g.final_task_id(k, d.group, groups) for k, d in drafts.items()}
    clash = {}
    for k, f in fid.items():
        if f in clash:
            r.error(f"{px}tasks.{k}", "duplicate-task", f"task id {f!r} is used twice (after task group prefixes)")
        clash[f] = k
    direct: dict[str, set[str]] = {k: set() for k in drafts}

    def expand(name: str, path: str) -> set[str] | None:
        if name in drafts:
            return {name}
        if name in groups:
            inside = g.members(groups, task_groups, name)
            if not inside:
                r.error(path, "empty-group", f"task group {name!r} has no tasks")
                return None
            return inside
        r.error(path, "unknown-dependency", f"{name!r} is neither a task nor a task group of this workflow")
        return None

    group_edges: list[tuple[set[str], str, str]] = []  # (upstream keys, downstream group, path)
    for k, d in drafts.items():
        for dep in d.dependencies:
            path = f"{px}tasks.{k}.dependencies"
            if dep == k:
                r.error(path, "self-dependency", f"task {k!r} depends on itself")
                continue
            keys = expand(dep, path)
            if keys is not None:
                direct[k].update(keys if dep in drafts else {"@group:" + dep})
    for name, grp in groups.items():
        for dep in grp.dependencies:
            path = f"{px}task_groups.{name}.dependencies"
            keys = expand(dep, path)
            if keys is not None:
                group_edges.append(({dep} if dep in drafts else {"@group:" + dep}, name, path))
    if r.errors:
        return None

    def leaves(name: str) -> set[str]:
        inside = g.members(groups, task_groups, name)
        inner = {k: {u for u in direct[k] if u in inside} for k in inside}
        return {k for k in inside if not any(k in ups for ups in inner.values())}

    def roots(name: str) -> set[str]:
        inside = g.members(groups, task_groups, name)
        return {k for k in inside if not ({u for u in direct[k] if u in inside})}

    upstream: dict[str, set[str]] = {k: set() for k in drafts}
    for k, ups in direct.items():
        for u in ups:
            upstream[k].update(leaves(u[7:]) if u.startswith("@group:") else {u})
    for ups, name, _ in group_edges:
        sources = set().union(*(leaves(u[7:]) if u.startswith("@group:") else {u} for u in ups))
        for root in roots(name):
            upstream[root].update(sources - {root})
    final = {fid[k]: {fid[u] for u in ups} for k, ups in upstream.items()}
    cycle = g.find_cycle(final)
    if cycle:
        r.error(f"{px}tasks", "cycle", "the dependencies form a cycle: " + " -> ".join(cycle))
        return None
    return final


def _task(tid: str, d: TaskDraft, upstream: set[str]) -> Task:
    return Task(task_id=tid, operator=d.operator, upstream=tuple(sorted(upstream)), retries=d.retries,
                retry_delay=d.retry_delay, retry_exponential_backoff=d.retry_exponential_backoff,
                max_retry_delay=d.max_retry_delay, execution_timeout=d.execution_timeout,
                trigger_rule=d.trigger_rule, mode=d.mode, poke_interval=d.poke_interval,
                sensor_timeout=d.sensor_timeout, arguments=d.arguments, task_group=d.group)


def _normalized(dag_id: str, params: dict[str, Any], schedule: str | None, start: datetime | None,
                end: datetime | None, tz_name: str | None, mar: int, drafts: dict[str, TaskDraft],
                groups: dict[str, g.Group], default_args: dict[str, Any],
                group_defaults: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """dag-factory's form of the validated definition: what the runner loads, never the raw text.
    Honoured values are written out on every task; other default_args stay default_args."""
    dag: dict[str, Any] = {"dag_id": dag_id, "params": params, "default_args": default_args,
                           "schedule": schedule if schedule is not None else "None",
                           "max_active_runs": mar, "catchup": False}
    zone_name = tz_name or "UTC"
    for key, value in (("start_date", start), ("end_date", end)):
        if value is not None:
            # dag-factory localises date strings with `timezone`; a __type__ datetime would lose the zone
            dag[key] = value.astimezone(values.zone(zone_name)).replace(tzinfo=None).isoformat()
    if start is not None or end is not None:
        dag["timezone"] = zone_name
    if groups:
        dag["task_groups"] = {
            name: {k: v for k, v in (("parent_group_name", grp.parent), ("dependencies", grp.dependencies or None),
                                     ("prefix_group_id", None if grp.prefix else False),
                                     ("default_args", group_defaults[name] or None))
                   if v is not None}
            for name, grp in groups.items()
        }
    tasks: dict[str, Any] = {}
    for key, d in drafts.items():
        entry = dict(d.normalized)
        entry["dependencies"] = sorted(set(d.dependencies))
        tasks[key] = entry
    dag["tasks"] = tasks
    return {dag_id: dag}

