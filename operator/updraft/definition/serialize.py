"""JSON form of a TaskGraph (exact round trip) and the content-derived version id."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from updraft.definition.model import Task, TaskGraph


def _td(v: timedelta | None) -> float | None:
    return None if v is None else v.total_seconds()


def _from_td(v: float | None) -> timedelta | None:
    return None if v is None else timedelta(seconds=v)


def _dt(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def _from_dt(v: str | None) -> datetime | None:
    return None if v is None else datetime.fromisoformat(v)


_DURATIONS = ("retry_delay", "max_retry_delay", "execution_timeout", "poke_interval", "sensor_timeout")


def to_dict(graph: TaskGraph) -> dict[str, Any]:
    tasks = []
    for t in graph.tasks.values():
        d: dict[str, Any] = {
            "task_id": t.task_id, "operator": t.operator, "upstream": list(t.upstream), "retries": t.retries,
            "retry_exponential_backoff": t.retry_exponential_backoff, "trigger_rule": t.trigger_rule,
            "mode": t.mode, "arguments": dict(t.arguments), "task_group": t.task_group,
        }
        for f in _DURATIONS:
            d[f] = _td(getattr(t, f))
        tasks.append(d)
    return {
        "dag_id": graph.dag_id, "schedule": graph.schedule, "timezone": graph.timezone,
        "start_date": _dt(graph.start_date), "end_date": _dt(graph.end_date),
        "max_active_runs": graph.max_active_runs, "params": dict(graph.params),
        "description": graph.description, "tasks": tasks, "normalized": graph.normalized,
    }


def from_dict(d: dict[str, Any]) -> TaskGraph:
    tasks = {}
    for t in d["tasks"]:
        tasks[t["task_id"]] = Task(
            task_id=t["task_id"], operator=t["operator"], upstream=tuple(t["upstream"]), retries=t["retries"],
            retry_delay=_from_td(t["retry_delay"]) or timedelta(0),
            retry_exponential_backoff=t["retry_exponential_backoff"], max_retry_delay=_from_td(t["max_retry_delay"]),
            execution_timeout=_from_td(t["execution_timeout"]), trigger_rule=t["trigger_rule"], mode=t["mode"],
            poke_interval=_from_td(t["poke_interval"]), sensor_timeout=_from_td(t["sensor_timeout"]),
            arguments=t["arguments"], task_group=t["task_group"],
        )
    return TaskGraph(dag_id=d["dag_id"], tasks=tasks, schedule=d["schedule"], timezone=d["timezone"],
                     start_date=_from_dt(d["start_date"]), end_date=_from_dt(d["end_date"]),
                     max_active_runs=d["max_active_runs"], params=d["params"], description=d["description"],
                     normalized=d["normalized"])


def content_version(definition: TaskGraph | str) -> str:
    """32 lowercase hex characters derived from the validated content (sha256 of the canonical JSON
    of `normalized`): the same definition, whatever its key order, comments, whitespace or form
    (dag-factory or the guide's simplified one), always gives the same version id, and any change
    that reaches the normalized definition gives another.

    Takes a TaskGraph, or definition text (validated with the default limits; ValueError if invalid).
    """
    if isinstance(definition, str):
        from updraft.definition.validate import validate  # validate imports this module's neighbours

        result = validate(definition)
        if result.graph is None:
            raise ValueError("cannot version an invalid definition: " + "; ".join(map(str, result.errors)))
        definition = result.graph
    canonical = json.dumps(definition.normalized, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
