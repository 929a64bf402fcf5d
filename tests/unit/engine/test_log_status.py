"""What became of an attempt's log reaches its task instance: the runner's report (SHIPPED,
PARTIAL, FAILED with the reason), INCOMPLETE when the pod ended without one while logs are
shipped; after an early report (no `logs`: the log ships after it) from the pod's termination
message once it ends; a failed run keeps its pods longer when logs live only on pods."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from updraft.engine import EngineSettings, RunStatus, RunView, logfate, reconcile
from updraft.engine.model import ObservedPod, Outcome
from updraft.engine.outcome import parse_outcome
from updraft.model.states import LogStatus, RunState

from sim import T0, graph, task
from test_transitions import NOW, pod, running, ti

ONE = graph(task("a"))


def view(status: RunStatus) -> RunView:
    return RunView(name="run-1", workflow="wf", created_at=T0, status=status)


def test_the_report_is_parsed_and_bounded() -> None:
    out = parse_outcome(json.dumps({"state": "success", "logs": {"status": "PARTIAL", "sent": 3, "dropped": 2,
                                                                 "reason": "x" * 1000}}))
    assert out is not None and out.log_status == LogStatus.PARTIAL and len(out.log_reason or "") == 300
    odd = parse_outcome(json.dumps({"state": "success", "logs": {"status": "GREAT"}}))
    assert odd is not None and odd.log_status is None and odd.state == "success"
    assert parse_outcome(json.dumps({"state": "success", "logs": "nope"})) is not None


def test_the_log_status_reaches_the_task_instance_and_its_cr_form() -> None:
    outcome = parse_outcome(json.dumps({"state": "success", "logs": {"status": "FAILED", "reason": "AccessDenied"}}))
    d = reconcile(view(running(ti("a", "RUNNING"))), ONE, [pod("a", "Succeeded", outcome=outcome)], NOW,
                  EngineSettings(ship_logs=True))
    a = d.status.tasks["a"]
    assert (a.status, a.log_status, a.log_reason) == ("SUCCESS", LogStatus.FAILED, "AccessDenied")
    cr = d.status.to_dict("wf-0123456789", "run-1")["taskInstances"][0]
    assert cr["logStatus"] == "FAILED" and cr["logStatusReason"] == "AccessDenied"
    assert cr["logStream"] == "workflow_id=wf-0123456789/run_id=run-1/task_id=a/attempt=1.log"
    assert RunStatus.from_dict(d.status.to_dict("wf-0123456789", "run-1")).tasks["a"].log_status == "FAILED"


def test_a_killed_attempt_is_incomplete_only_when_logs_are_shipped() -> None:
    killed = pod("a", "Failed", reason="OOMKilled", exit_code=137)
    shipped = reconcile(view(running(ti("a", "RUNNING"))), ONE, [killed], NOW, EngineSettings(ship_logs=True))
    assert shipped.status.tasks["a"].log_status == LogStatus.INCOMPLETE
    kept = reconcile(view(running(ti("a", "RUNNING"))), ONE, [killed], NOW, EngineSettings(ship_logs=False))
    assert kept.status.tasks["a"].log_status is None


def test_a_new_attempt_forgets_the_previous_log_status() -> None:
    retry = graph(task("a", retries=1, retry_delay=timedelta(seconds=0)))
    before = running(ti("a", "UP_FOR_RETRY", log_status="FAILED", log_reason="x", next_attempt_at=NOW))
    d = reconcile(view(before), retry, [], NOW, EngineSettings(ship_logs=True))
    assert d.status.tasks["a"].attempt == 2 and d.status.tasks["a"].log_status is None


def test_a_failed_run_keeps_its_pods_for_the_failed_delay() -> None:
    done = replace(running(ti("a", "FAILED", ended_at=NOW - timedelta(minutes=10)), state=RunState.FAILED),
                   completed_on=NOW - timedelta(minutes=10))
    pods = [pod("a", "Failed", exit_code=1)]
    default = reconcile(view(done), ONE, pods, NOW, EngineSettings(cleanup_delay=timedelta(minutes=5)))
    assert any(type(a).__name__ == "DeletePod" for a in default.actions)
    longer = reconcile(view(done), ONE, pods, NOW, EngineSettings(cleanup_delay=timedelta(minutes=5),
                                                                  failed_cleanup_delay=timedelta(hours=24)))
    assert not longer.actions or all(type(a).__name__ != "DeletePod" for a in longer.actions)
    assert longer.requeue_at == NOW - timedelta(minutes=10) + timedelta(hours=24)


SHIPS = EngineSettings(ship_logs=True)
REPORT = Outcome("success")  # the early report: no `logs`, the log ships after it
SAID = Outcome("success", log_status=LogStatus.SHIPPED)  # the termination message, written after shipping


def _after(decision_status: RunStatus, pods: list[ObservedPod], now: datetime = NOW) -> RunStatus:
    return reconcile(view(decision_status), ONE, pods, now, SHIPS).status


def test_an_early_report_leaves_the_log_open_until_the_termination_message_says() -> None:
    shipping = pod("a", "Running", reported=REPORT)
    first = _after(running(ti("a", "RUNNING")), [shipping])
    assert first.run_state == RunState.SUCCESS and first.tasks["a"].status == "SUCCESS"
    assert first.tasks["a"].log_status is None  # not INCOMPLETE: the runner is shipping it now
    still = _after(first, [shipping], NOW + timedelta(seconds=1))
    assert still.tasks["a"].log_status is None
    ended = _after(still, [pod("a", "Succeeded", reported=REPORT, outcome=SAID)], NOW + timedelta(seconds=2))
    assert (ended.tasks["a"].status, ended.tasks["a"].log_status) == ("SUCCESS", LogStatus.SHIPPED)


def test_a_reported_pod_that_ends_before_saying_is_incomplete() -> None:
    first = _after(running(ti("a", "RUNNING")), [pod("a", "Running", reported=REPORT)])
    cut = pod("a", "Failed", reported=REPORT, outcome=REPORT, reason="OOMKilled", exit_code=137)
    ended = _after(first, [cut], NOW + timedelta(seconds=2))
    assert ended.tasks["a"].status == "SUCCESS"  # the report stands
    assert ended.tasks["a"].log_status == LogStatus.INCOMPLETE and logfate.CUT == ended.tasks["a"].log_reason


def test_the_clean_up_closes_a_fate_still_open() -> None:
    shipping = pod("a", "Running", reported=REPORT)
    first = _after(running(ti("a", "RUNNING")), [shipping])
    due = NOW + SHIPS.cleanup_delay + timedelta(seconds=1)
    d = reconcile(view(first), ONE, [shipping], due, SHIPS)
    assert d.status.tasks["a"].log_status == LogStatus.INCOMPLETE and d.status.tasks["a"].log_reason == logfate.UNSAID
    assert any(getattr(a, "pod_name", None) == shipping.name and type(a).__name__ == "DeletePod" for a in d.actions)


def test_without_shipping_an_early_report_sets_no_log_status() -> None:
    d = reconcile(view(running(ti("a", "RUNNING"))), ONE,
                  [pod("a", "Succeeded", reported=REPORT, outcome=REPORT)], NOW, EngineSettings(ship_logs=False))
    assert d.status.tasks["a"].status == "SUCCESS" and d.status.tasks["a"].log_status is None
