"""The handlers' decisions, pure: conditions, when to compile, admission input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from updraft.model.run import WorkflowRun
from updraft.model.workflow import Workflow
from updraft.plan import workflow as plan
from updraft.plan.admission import is_admitted

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def wf(status: dict[str, Any] | None = None, definition: str = "x: 1") -> Workflow:
    return Workflow.from_body({"metadata": {"name": "etl", "namespace": "d", "uid": "u", "generation": 3},
                               "spec": {"definition": definition}, "status": status or {}})


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    first = plan.condition("DefinitionValid", True, "Valid", "version a", T0, 1)
    later = plan.condition("DefinitionValid", True, "Valid", "version b", T0 + timedelta(hours=1), 2, (first,))
    flipped = plan.condition("DefinitionValid", False, "Invalid", "x" * 5000, T0 + timedelta(hours=2), 3, (later,))
    assert later["lastTransitionTime"] == first["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert flipped["lastTransitionTime"] == "2026-01-01T02:00:00Z" and len(flipped["message"]) == plan.MAX_MESSAGE


def test_compiles_only_without_a_version_or_when_the_source_changed() -> None:
    current = wf()
    assert plan.needs_compile(current)
    done = wf({"latestVersion": "v", "sourceDigest": current.source_digest})
    assert not plan.needs_compile(done)
    assert plan.needs_compile(wf({"latestVersion": "v", "sourceDigest": current.source_digest}, definition="x: 2"))
    assert plan.needs_compile(wf({"latestVersion": "v"}))  # made before digests were kept: once


def test_modified_at_moves_only_with_a_new_version() -> None:
    kept = wf({"latestVersion": "v", "modifiedAt": "2025-12-01T00:00:00Z"})
    assert plan.valid(kept, "v", (), T0)["modifiedAt"] == "2025-12-01T00:00:00Z"
    assert plan.valid(kept, "w", (), T0)["modifiedAt"] == "2026-01-01T00:00:00Z"


def run(name: str, workflow: str, minute: int, state: str = "", limit: int | None = None) -> WorkflowRun:
    status: dict[str, Any] = {"runState": state} if state else {}
    if limit is not None:
        status["maxActiveRuns"] = limit
    return WorkflowRun.from_body({"metadata": {"name": name, "namespace": "d", "uid": name,
                                               "creationTimestamp": f"2026-01-01T00:{minute:02d}:00Z"},
                                  "spec": {"workflowName": workflow}, "status": status})


def test_admission_uses_the_limit_each_workflows_runs_recorded() -> None:
    runs = [run("b0", "b", 0, "QUEUED", 1), run("b1", "b", 1, "QUEUED", 1), run("b2", "b", 2, "QUEUED", 1)]
    x = run("x", "a", 3)
    assert is_admitted(runs, x, current_limit=16, cluster_limit=3)
    assert is_admitted(runs, runs[0], current_limit=1, cluster_limit=3)
    assert not is_admitted(runs, runs[1], current_limit=1, cluster_limit=3)
    # without the records, b's limit is unknown (16): x would wait behind b1 and b2
    blind = [run("b0", "b", 0, "QUEUED"), run("b1", "b", 1, "QUEUED"), run("b2", "b", 2, "QUEUED")]
    assert not is_admitted(blind, x, current_limit=16, cluster_limit=3)


def test_admission_answers_the_same_whatever_the_order_of_the_list() -> None:
    runs = [run(f"r{i}", "w", i, "QUEUED", 2) for i in range(5)] + [run("h", "w", 9, "RUNNING", 2)]
    answers = {is_admitted(order, runs[0], 2, 10) for order in (runs, runs[::-1], runs[2:] + runs[:2])}
    assert answers == {True}
    assert not is_admitted(runs, runs[1], 2, 10)


def finished(name: str, completed_minute: int | None, state: str = "SUCCESS") -> WorkflowRun:
    status: dict[str, Any] = {"runState": state}
    if completed_minute is not None:
        status["completedOn"] = f"2026-01-01T00:{completed_minute:02d}:00Z"
    return WorkflowRun.from_body({"metadata": {"name": name, "namespace": "d", "uid": name,
                                               "creationTimestamp": "2026-01-01T00:00:00Z"},
                                  "spec": {"workflowName": "w"}, "status": status})


def test_retention_keeps_the_newest_finished_runs_and_none_too_old() -> None:
    from updraft.plan.retention import expired

    runs = [finished(f"r{i}", i) for i in range(5)] + [finished("live", None, "RUNNING")]
    now = T0 + timedelta(minutes=10)
    assert expired(runs, keep=3, max_age=timedelta(days=30), now=now) == ["r0", "r1"]
    assert expired(runs, keep=100, max_age=timedelta(minutes=7), now=now) == ["r0", "r1", "r2"]
    assert expired(runs, keep=0, max_age=timedelta(days=30), now=now) == ["r0", "r1", "r2", "r3", "r4"]
    assert "live" not in expired(runs, keep=0, max_age=timedelta(0), now=now)  # never an unfinished run


def test_the_schedule_holds_a_fire_time_back_at_max_active_runs() -> None:
    from updraft.plan.scheduling import tick
    from updraft.schedule import parse

    every_minute = parse("* * * * *")
    base = {"scheduleSince": "2026-01-01T00:00:00Z", "lastScheduledTime": "2026-01-01T00:01:00Z"}
    workflow = wf(base)
    now = T0 + timedelta(minutes=2, seconds=5)
    held = tick(workflow, every_minute, now, timedelta(minutes=5), at_capacity=True)
    assert held.due is None and "lastScheduledTime" not in held.patch
    assert held.wake_at == T0 + timedelta(minutes=3)
    later = tick(workflow, every_minute, now + timedelta(minutes=2), timedelta(minutes=5))  # a slot freed
    assert later.due == T0 + timedelta(minutes=4)  # the latest fire time, not a backlog of three
