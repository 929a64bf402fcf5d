"""Validation of one task: operator allowlist, the guide's task-level rules, sensors, and the
split between what Updraft honours, what it ignores (with a warning) and what it refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from updraft.definition import allowlist, parameters, values
from updraft.definition.limits import Limits
from updraft.definition.model import TRIGGER_RULES

Report = Callable[[str, str, str], None]  # (path, rule, message)

# Operators people reach for that have a supported counterpart.
_HINTS = {
    "RedshiftSQLOperator": "RedshiftDataOperator (SQL through the Redshift Data API)",
    "SQLExecuteQueryOperator": "RedshiftDataOperator or AthenaOperator",
    "DummyOperator": "airflow.providers.standard.operators.empty.EmptyOperator",
}

SENSOR_DEFAULT_POKE = timedelta(seconds=60)
SENSOR_DEFAULT_TIMEOUT = timedelta(days=7)


@dataclass
class TaskDraft:
    """A task after its own checks, before the graph is resolved."""

    key: str
    operator: str
    dependencies: list[str] = field(default_factory=list)
    group: str | None = None
    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=300)
    retry_exponential_backoff: bool = False
    max_retry_delay: timedelta | None = None
    execution_timeout: timedelta | None = None
    trigger_rule: str = "all_success"
    mode: str | None = None
    poke_interval: timedelta | None = None
    sensor_timeout: timedelta | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    normalized: dict[str, Any] = field(default_factory=dict)


def json_safe(value: Any, path: str, error: Report) -> Any:
    """Operator arguments as JSON-safe data; typed values must be allowlisted."""
    if values.is_typed(value):
        try:
            values.check_typed(value)
        except values.ValueProblem as p:
            error(path, p.rule, p.message)
        return dict(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, f"{path}.{k}", error) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{path}[{i}]", error) for i, v in enumerate(value)]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    error(path, "value-type", f"unsupported value of type {type(value).__name__}")
    return None


_ENV_REF = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")


def warn_env_refs(value: Any, path: str, warn: Report) -> None:
    """dag-factory runs `os.path.expandvars` over the whole file before parsing it, so `$NAME` in a
    dag-factory YAML means "the operator's environment variable". Updraft never hands dag-factory
    raw text: the characters stay as written. Say so where it could surprise someone."""
    if isinstance(value, str):
        m = _ENV_REF.search(value)
        if m:
            warn(path, "env-variable", f"{m.group(0)} is kept as written: Updraft does not expand environment "
                                       "variables (dag-factory would)")
    elif isinstance(value, dict):
        for k, v in value.items():
            warn_env_refs(v, f"{path}.{k}", warn)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            warn_env_refs(v, f"{path}[{i}]", warn)


def _duration(raw: Any, path: str, error: Report, *, numbers: bool = True) -> timedelta | None:
    try:
        return values.to_timedelta(raw, numbers_allowed=numbers)
    except values.ValueProblem as p:
        error(path, p.rule, p.message)
        return None


Defaults = dict[str, tuple[Any, str]]  # default_args key -> (value, path it was written at)


def check_task(key: str, conf: Any, path: str, defaults: Defaults, dag_dates: dict[str, Any],
               limits: Limits, error: Report, warn: Report) -> TaskDraft | None:
    """One task, with the default_args that reach it (the DAG's, then its groups', inner last).

    A default_args value Updraft honours (retries, retry_delay, ...) is checked where it was
    written and resolved into the task. Any other default_args key is not made an argument of
    the task: Airflow gives default_args only to operators that accept them, so they stay in
    the normalized default_args (see `passthrough`), and Task.arguments holds the task's own."""
    if not isinstance(conf, dict):
        error(path, "task-form", "a task must be a mapping of parameters")
        return None
    merged = {**{k: v for k, (v, _) in defaults.items()}, **conf}
    op_raw = merged.get("operator")
    if not isinstance(op_raw, str) or not op_raw:
        error(f"{path}.operator", "operator-required", "every task needs an operator (full import path or class name)")
        return None
    operator = allowlist.resolve(op_raw)
    if operator is None:
        name = op_raw.rsplit(".", 1)[-1]
        hint = allowlist.supported().get(name)
        more = f"; did you mean {hint}?" if hint else " (see the guide's \"Supported operators\")"
        if name in _HINTS:
            more = f"; use {_HINTS[name]} instead"
        if name in ("PythonOperator", "BashOperator", "PythonVirtualenvOperator", "BranchPythonOperator"):
            more = ": Python and shell code do not run in MWAA Serverless workflows; use an AWS operator"
        error(f"{path}.operator", "operator-not-supported", f"operator {op_raw!r} is not supported{more}")
        # go on checking the task's other parameters: every error is reported at once
    draft = TaskDraft(key=key, operator=operator or op_raw)
    norm: dict[str, Any] = {"operator": operator}

    for k, v in merged.items():
        from_defaults = k not in conf
        kp = defaults[k][1] if from_defaults else f"{path}.{k}"
        if k in ("operator", "task_id"):
            continue
        if from_defaults and k not in parameters.TASK_SCHEDULING:
            continue  # passed on in the normalized default_args (dates: the DAG's own)
        if parameters.refuses_code(k):
            error(kp, "code-reference", f"{k} would make dag-factory load or run Python code, which workflows may not do")
        elif k in parameters.MAPPING_KEYS:
            error(kp, "dynamic-mapping", f"{k} (dynamic task mapping) is not supported: list each task explicitly")
        elif k in ("dependencies", "depends_on"):
            if not isinstance(v, list) or not all(isinstance(d, str) for d in v):
                error(kp, "dependencies-form", "dependencies must be a list of task ids")
            else:
                draft.dependencies.extend(v)
        elif k == "task_group_name":
            if not isinstance(v, str):
                error(kp, "task-group-form", "task_group_name must be a group name")
            else:
                draft.group = v
        elif k == "retries":
            if isinstance(v, bool) or not isinstance(v, int):
                error(kp, "retries-type", f"retries must be a whole number, got {v!r}")
            elif not 0 <= v <= limits.max_retries:
                error(kp, "retries-range", f"retries must be between 0 and {limits.max_retries}, got {v}")
            else:
                draft.retries = v
        elif k == "retry_delay":
            td = _duration(v, kp, error)
            if td is not None:
                if not timedelta(0) <= td <= timedelta(seconds=limits.max_retry_delay_s):
                    error(kp, "retry-delay-range",
                          f"retry_delay must be between 0 and {limits.max_retry_delay_s} seconds, got {td.total_seconds():g}")
                else:
                    draft.retry_delay = td
        elif k == "execution_timeout":
            if v is None:
                continue
            td = _duration(v, kp, error)
            if td is not None:
                if td <= timedelta(0) or td > timedelta(seconds=limits.max_execution_timeout_s):
                    error(kp, "execution-timeout-range",
                          f"execution_timeout must be more than 0 and at most {limits.max_execution_timeout_s} seconds, "
                          f"got {td.total_seconds():g}")
                else:
                    draft.execution_timeout = td
        elif k == "trigger_rule":
            if v not in TRIGGER_RULES:
                error(kp, "trigger-rule", f"unknown trigger_rule {v!r} (one of: {', '.join(TRIGGER_RULES)})")
            else:
                draft.trigger_rule = v
        elif k == "retry_exponential_backoff":
            if not isinstance(v, bool):
                error(kp, "boolean", "retry_exponential_backoff must be true or false")
            else:
                draft.retry_exponential_backoff = v
        elif k == "max_retry_delay":
            td = None if v is None else _duration(v, kp, error)
            if td is not None and td < timedelta(0):
                error(kp, "max-retry-delay-range", f"max_retry_delay must not be negative, got {td.total_seconds():g}")
            else:
                draft.max_retry_delay = td
        elif _aws_controlled(k):
            value = passed_on(k, v, kp, error, warn)
            if value is not DROPPED:
                norm[k] = value
        elif k in ("start_date", "end_date"):
            if not from_defaults and v is not None and not _same_instant(v, dag_dates.get(k)):
                warn(kp, "ignored-parameter", f"task-level {k} is not supported and is ignored (the workflow's applies)")
        elif k in parameters.TASK_IGNORED:
            if not parameters.is_default(parameters.TASK_IGNORED, k, v) and not from_defaults:
                warn(kp, "ignored-parameter", f"{k} is not supported by MWAA Serverless and is ignored")
        elif k == "deferrable":
            norm[k] = passed_on(k, v, kp, error, warn)
        else:
            draft.arguments[k] = norm[k] = passed_on(k, v, kp, error, warn)

    if operator is None:
        return None
    if allowlist.is_sensor(operator):
        def where(k: str) -> str:
            return defaults[k][1] if k not in conf and k in defaults else f"{path}.{k}"

        mode = merged.get("mode", "poke")
        if mode not in ("poke", "reschedule"):
            error(where("mode"), "sensor-mode", f"sensor mode must be poke or reschedule, got {mode!r}")
            mode = "poke"
        draft.mode = mode
        for key, default, attr in (("poke_interval", SENSOR_DEFAULT_POKE, "poke_interval"),
                                   ("timeout", SENSOR_DEFAULT_TIMEOUT, "sensor_timeout")):
            raw = merged.get(key)
            td = default if raw is None else _duration(raw, where(key), error)
            if td is not None and td < timedelta(0):
                error(where(key), "sensor-duration", f"{key} must not be negative, got {td.total_seconds():g}")
                td = None
            setattr(draft, attr, td)

    norm.update({
        "retries": draft.retries,
        "retry_delay": values.encode_timedelta(draft.retry_delay),
        "trigger_rule": draft.trigger_rule,
        "retry_exponential_backoff": draft.retry_exponential_backoff,
    })
    if draft.execution_timeout is not None:
        norm["execution_timeout"] = values.encode_timedelta(draft.execution_timeout)
    if draft.max_retry_delay is not None:
        norm["max_retry_delay"] = values.encode_timedelta(draft.max_retry_delay)
    if draft.group is not None:
        norm["task_group_name"] = draft.group
    draft.normalized = norm
    return draft


def passthrough(defaults: Defaults, error: Report, warn: Report) -> dict[str, Any]:
    """The default_args keys that go on to Airflow as default_args (the honoured ones are resolved
    into every task instead), with the same treatment as task arguments."""
    out: dict[str, Any] = {}
    for k, (v, kp) in defaults.items():
        if k in parameters.TASK_SCHEDULING or k in ("start_date", "end_date", "operator", "task_id"):
            continue
        if k in parameters.MAPPING_KEYS or k in parameters.TASK_STRUCTURAL:
            error(kp, "default-args-form", f"{k} cannot be a default argument")
            continue
        value = passed_on(k, v, kp, error, warn)
        if value is not DROPPED:
            out[k] = value
    return out


DROPPED = object()  # what `passed_on` returns for an argument Airflow must not see


def _aws_controlled(key: str) -> bool:
    return key in parameters.AWS_CONTROLLED or key.endswith("_aws_conn_id")


def passed_on(k: str, v: Any, kp: str, error: Report, warn: Report) -> Any:
    """What an operator argument (of a task or in default_args) becomes for Airflow: connection
    ids are the default credential chain (the workflow's role), other AWS-controlled settings are
    dropped, `deferrable` is off, anything else must be JSON-safe. Warnings say what changed."""
    if _aws_controlled(k):
        if k.endswith("aws_conn_id"):  # also source_/dest_aws_conn_id (S3FileTransformOperator)
            if v not in ("aws_default", None):
                warn(kp, "aws-controlled", f"{k} {v!r} is ignored: tasks use the workflow's role")
            return None
        if v is not None:
            why = "comes from the environment" if k == "region_name" else "is not supported"
            warn(kp, "aws-controlled", f"{k} {why}; the value is ignored")
        return DROPPED
    if k == "deferrable":
        if v:
            warn(kp, "deferrable", "deferrable is not supported: the task runs in its pod until done")
        return False
    safe = json_safe(v, kp, error)
    warn_env_refs(safe, kp, warn)
    return safe


def _same_instant(value: Any, dag_value: Any) -> bool:
    if dag_value is None:
        return False
    try:
        return bool(values.to_datetime(value, None) == dag_value)
    except values.ValueProblem:
        return False
