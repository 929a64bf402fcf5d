"""What the operator hands a task pod, read from its environment (no Kubernetes access needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


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
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{name}={text!r} is not an ISO-8601 instant") from None


def from_env(env: Mapping[str, str]) -> TaskInputs:
    missing = [n for n in ("UPDRAFT_WORKFLOW", "UPDRAFT_RUN", "UPDRAFT_TASK_ID", "UPDRAFT_ATTEMPT",
                           "UPDRAFT_LOGICAL_DATE", "UPDRAFT_DEFINITION") if not env.get(n)]
    if missing:
        raise InputError(f"missing environment: {', '.join(missing)}")
    try:
        definition = json.loads(env["UPDRAFT_DEFINITION"])
        params = json.loads(env.get("UPDRAFT_PARAMS") or "{}")
    except json.JSONDecodeError as e:
        raise InputError(f"UPDRAFT_DEFINITION/UPDRAFT_PARAMS: invalid JSON ({e.msg})") from None
    if not isinstance(definition, dict) or len(definition) != 1:
        raise InputError("UPDRAFT_DEFINITION must hold exactly one DAG")
    first = env.get("UPDRAFT_FIRST_STARTED_AT")
    return TaskInputs(workflow=env["UPDRAFT_WORKFLOW"], run_id=env["UPDRAFT_RUN"], task_id=env["UPDRAFT_TASK_ID"],
                      attempt=int(env["UPDRAFT_ATTEMPT"]), logical_date=_time(env["UPDRAFT_LOGICAL_DATE"], "UPDRAFT_LOGICAL_DATE"),
                      definition=definition, params=params if isinstance(params, dict) else {},
                      first_started_at=_time(first, "UPDRAFT_FIRST_STARTED_AT") if first else None,
                      namespace=env.get("UPDRAFT_NAMESPACE", ""), task_api_url=env.get("UPDRAFT_TASK_API_URL", ""),
                      token=env.get("UPDRAFT_TASK_TOKEN", ""))
