"""What the operator hands a task pod, read from its environment (no Kubernetes access needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from updraft.model.times import parse_ts


class InputError(ValueError):
    pass


@dataclass(frozen=True)
class TaskInputs:
    workflow: str
    run_id: str
    task_id: str
    attempt: int
    logical_date: datetime
    definition: Mapping[str, Any]  # the validated definition, dag-factory form (TaskGraph.normalized)
    params: Mapping[str, Any] = field(default_factory=dict)  # the run's overrideParameters
    first_started_at: datetime | None = None  # sensors in reschedule mode: when the attempt began
    namespace: str = ""
    task_api_url: str = ""  # the operator's task API (XCom); empty: XCom stays inside the pod
    token: str = ""  # this attempt's task-API token


def _time(text: str, name: str) -> datetime:
    try:
        parsed = parse_ts(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InputError(f"{name}={text!r} is not an ISO-8601 instant")
    return parsed


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: invalid JSON ({e.msg})") from None


def _definition(env: Mapping[str, str]) -> Mapping[str, Any]:
    """The validated definition: the file the pod mounts from the version's ConfigMap
    (UPDRAFT_DEFINITION_FILE), or inline JSON (UPDRAFT_DEFINITION, for running the runner by hand)."""
    path = env.get("UPDRAFT_DEFINITION_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                definition, name = _json(f.read(), f"UPDRAFT_DEFINITION_FILE {path}"), "UPDRAFT_DEFINITION_FILE"
        except OSError as e:
            raise InputError(f"UPDRAFT_DEFINITION_FILE {path}: {e.strerror}") from None
    elif env.get("UPDRAFT_DEFINITION"):
        definition, name = _json(env["UPDRAFT_DEFINITION"], "UPDRAFT_DEFINITION"), "UPDRAFT_DEFINITION"
    else:
        raise InputError("missing environment: UPDRAFT_DEFINITION_FILE (or UPDRAFT_DEFINITION)")
    if not isinstance(definition, dict) or len(definition) != 1:
        raise InputError(f"{name} must hold exactly one DAG")
    return definition


def from_env(env: Mapping[str, str]) -> TaskInputs:
    missing = [n for n in ("UPDRAFT_WORKFLOW", "UPDRAFT_RUN", "UPDRAFT_TASK_ID", "UPDRAFT_ATTEMPT",
                           "UPDRAFT_LOGICAL_DATE") if not env.get(n)]
    if missing:
        raise InputError(f"missing environment: {', '.join(missing)}")
    definition = _definition(env)
    params = _json(env.get("UPDRAFT_PARAMS") or "{}", "UPDRAFT_PARAMS")
    first = env.get("UPDRAFT_FIRST_STARTED_AT")
    return TaskInputs(workflow=env["UPDRAFT_WORKFLOW"], run_id=env["UPDRAFT_RUN"], task_id=env["UPDRAFT_TASK_ID"],
                      attempt=int(env["UPDRAFT_ATTEMPT"]), logical_date=_time(env["UPDRAFT_LOGICAL_DATE"], "UPDRAFT_LOGICAL_DATE"),
                      definition=definition, params=params if isinstance(params, dict) else {},
                      first_started_at=_time(first, "UPDRAFT_FIRST_STARTED_AT") if first else None,
                      namespace=env.get("UPDRAFT_NAMESPACE", ""), task_api_url=env.get("UPDRAFT_TASK_API_URL", ""),
                      token=env.get("UPDRAFT_TASK_TOKEN", ""))
