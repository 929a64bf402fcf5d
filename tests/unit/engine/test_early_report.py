"""The runner's early report (engine/outcome.py, "The early report"): an outcome recorded on the pod
through the task API before the container ends. The engine takes it as the attempt's outcome at
once (successors start in the same pass), leaves the reporting pod to exit on its own, and never
runs the attempt again whatever the pod does next."""

from __future__ import annotations

from datetime import timedelta

from updraft.engine import CreatePod, DeletePod, ObservedPod, Outcome, RunStatus, RunView, classify_pod, observe, reconcile
from updraft.engine.outcome import DONE, INFRA
from updraft.model import names

from sim import T0
from test_transitions import CHAIN, NOW, ONE, RETRY, S, pn, pod, running, ti


def _decide(status: RunStatus, pods: list[ObservedPod], graph=CHAIN):  # type: ignore[no-untyped-def]
    return reconcile(RunView("run-1", "wf", T0, status), graph, pods, NOW, S)


def _made(d) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [("create", a.pod_name) if isinstance(a, CreatePod) else ("delete", a.pod_name)
            for a in d.actions if isinstance(a, (CreatePod, DeletePod))]


def test_a_running_pod_that_reported_success_ends_its_task_and_starts_the_next_in_one_pass() -> None:
    d = _decide(running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
                [pod("a", "Running", reported=Outcome("success"))])
    assert d.status.tasks["a"].status == "SUCCESS" and d.status.tasks["b"].status == "QUEUED"
    assert d.status.tasks["a"].ended_at == NOW
    assert _made(d) == [("create", pn("b", 1))]  # the reporting pod is left to exit on its own


def test_the_last_report_finishes_the_run_and_the_pod_is_not_killed() -> None:
    d = _decide(running(ti("a", "RUNNING")), [pod("a", "Running", reported=Outcome("success"))], ONE)
    assert d.status.run_state == "SUCCESS"
    assert _made(d) == [] and not d.done  # kept (and its logs) until the run's clean-up


def test_a_reported_failure_spends_a_retry_like_the_termination_message() -> None:
    d = _decide(running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
                [pod("a", "Running", reported=Outcome("failed", "boom"))], RETRY)
    a = d.status.tasks["a"]
    assert (a.status, a.error, a.next_attempt_at) == ("UP_FOR_RETRY", "boom", NOW + timedelta(seconds=60))


def test_the_report_stands_whatever_the_pod_does_next() -> None:
    reported = Outcome("success")
    for later in (pod("a", "Failed", exit_code=137, reason="OOMKilled", reported=reported),
                  pod("a", "Failed", exit_code=137, reason="Evicted", reported=reported),  # would be infra
                  pod("a", "Running", deleted=True, deleted_at=NOW, reported=reported),  # would be infra
                  pod("a", "Failed", exit_code=1, outcome=Outcome("failed", "x"), reported=reported)):
        assert classify_pod(later).kind == DONE and classify_pod(later).outcome == reported
        d = _decide(running(ti("a", "RUNNING"), ti("b", "NONE", 0)), [later])
        assert d.status.tasks["a"].status == "SUCCESS" and _made(d) == [("create", pn("b", 1))]
    assert classify_pod(pod("a", "Failed", exit_code=137, reason="Evicted")).kind == INFRA  # without a report


def test_once_recorded_the_pods_end_changes_nothing() -> None:
    after = running(ti("a", "SUCCESS", ended_at=NOW - timedelta(seconds=1)), ti("b", "QUEUED"))
    for end in (pod("a", "Succeeded", exit_code=0, outcome=Outcome("success"), reported=Outcome("success")),
                pod("a", "Failed", exit_code=137, reason="OOMKilled", reported=Outcome("success"))):
        d = _decide(after, [end, pod("b", "Pending")])
        assert d.status == after and _made(d) == []


def test_a_pod_still_running_after_its_attempt_ended_without_a_report_is_deleted() -> None:
    d = _decide(running(ti("a", "SUCCESS", ended_at=NOW), ti("b", "QUEUED")), [pod("a", "Running"), pod("b", "Pending")])
    assert _made(d) == [("delete", pn("a", 1))]


def test_a_stop_takes_the_reported_outcome() -> None:
    d = reconcile(RunView("run-1", "wf", T0, running(ti("a", "RUNNING"), ti("b", "NONE", 0)), stop_requested=True),
                  CHAIN, [pod("a", "Running", reported=Outcome("success"))], NOW, S)
    assert d.status.tasks["a"].status == "SUCCESS" and d.status.tasks["b"].status == "CANCELLED"


def test_observe_reads_the_report_annotation_apart_from_the_termination_message() -> None:
    body = {"metadata": {"name": pn("a", 1), "labels": {names.LABEL_ATTEMPT: "1"},
                         "annotations": {names.ANNOTATION_TASK_ID: "a",
                                         names.ANNOTATION_REPORT: '{"state":"success"}'}},
            "status": {"phase": "Running"}}
    seen = observe(body)
    assert (seen.reported, seen.outcome) == (Outcome("success"), None)
    body["metadata"]["annotations"][names.ANNOTATION_REPORT] = "not json"
    assert observe(body).reported is None  # broken: as if none (the termination message decides)


def test_a_report_ahead_of_the_kubelets_status_still_gives_the_attempt_a_start() -> None:
    """A task of a second reports before the kubelet writes the pod's status: its attempt has run,
    and its duration counts from the pod's creation (the metric and the API need a start)."""
    body = {"metadata": {"name": pn("a", 1), "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": {names.LABEL_ATTEMPT: "1"},
                         "annotations": {names.ANNOTATION_TASK_ID: "a", names.ANNOTATION_REPORT: '{"state":"success"}'}}}
    seen = observe(body)
    assert seen.started_at is None and seen.created_at is not None  # what the kubelet said: nothing yet
    d = _decide(running(ti("a", "QUEUED"), ti("b", "NONE", 0)), [seen])
    a = d.status.tasks["a"]
    assert a.status == "SUCCESS" and a.started_at == seen.created_at and a.ended_at == NOW
    assert d.status.tasks["b"].status == "QUEUED"
