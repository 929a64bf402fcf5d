"""A Workflow's status, decided purely: its conditions, whether its definition must be compiled
again, and the schedule it runs on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from updraft.definition import TaskGraph
from updraft.model import names
from updraft.model.states import TriggerMode, WorkflowState
from updraft.model.times import format_ts
from updraft.model.workflow import CONDITION_DEFINITION_VALID, Workflow
from updraft.schedule import Schedule, parse, resolve_timezone

MAX_MESSAGE = 4000


def condition(type_: str, ok: bool, reason: str, message: str, now: datetime, generation: int,
              previous: tuple[Mapping[str, Any], ...] = ()) -> dict[str, Any]:
    """A status condition; its lastTransitionTime moves only when its status changes."""
    status = "True" if ok else "False"
    old = next((c for c in previous if c.get("type") == type_), None)
    since = (old["lastTransitionTime"] if old and old.get("status") == status and old.get("lastTransitionTime")
             else format_ts(now))
    return {"type": type_, "status": status, "reason": reason, "message": message[:MAX_MESSAGE],
            "lastTransitionTime": since, "observedGeneration": generation}


def base_status(workflow: Workflow, arn: str) -> dict[str, Any]:
    """What every reconcile writes, whatever the definition's fate."""
    return {"workflowStatus": WorkflowState.READY, "arn": arn,
            # what the workflow role's trust policy names: system:serviceaccount:<namespace>:<this>
            "serviceAccount": names.identity_name(workflow.name), "observedGeneration": workflow.generation}


def invalid(workflow: Workflow, reason: str, message: str, now: datetime) -> dict[str, Any]:
    """The status fields of a workflow whose definition could not become a version."""
    return {"conditions": [condition(CONDITION_DEFINITION_VALID, False, reason, message, now, workflow.generation,
                                     workflow.conditions)]}


def valid(workflow: Workflow, version_id: str, warnings: tuple[str, ...], now: datetime) -> dict[str, Any]:
    modified = workflow.status.get("modifiedAt") if version_id == workflow.latest_version else None
    return {"latestVersion": version_id, "sourceDigest": workflow.source_digest, "warnings": list(warnings),
            "modifiedAt": modified or format_ts(now),
            "conditions": [condition(CONDITION_DEFINITION_VALID, True, "Valid", f"version {version_id}", now,
                                     workflow.generation, workflow.conditions)]}


def needs_compile(workflow: Workflow) -> bool:
    """A definition is compiled when the workflow has no version yet or its source changed; a
    restart, or a change of other spec fields, compiles nothing."""
    return workflow.latest_version is None or workflow.status.get("sourceDigest") != workflow.source_digest


def schedule_timezone(workflow: Workflow, graph: TaskGraph) -> str:
    """Airflow's precedence: the Workflow's spec.timezone, the definition's, its start_date's, UTC."""
    return resolve_timezone(workflow.timezone_override, graph.timezone, graph.start_date)


def workflow_schedule(workflow: Workflow, graph: TaskGraph) -> Schedule | None:
    """The schedule in force (None: manual only, disabled, or no cron). ScheduleError names what is
    wrong (a time zone that does not exist, say); the workflow then gets no new version."""
    if workflow.trigger_mode != TriggerMode.SCHEDULED or graph.schedule is None:
        return None
    return parse(graph.schedule, schedule_timezone(workflow, graph), graph.start_date, graph.end_date)

