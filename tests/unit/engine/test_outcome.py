"""The runner's report (termination message) and what an observed pod means."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from updraft.engine import ObservedPod, Outcome, classify_pod, parse_outcome


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param('{"state": "success"}', Outcome("success"), id="success"),
    pytest.param('{"state": "failed", "error": "KeyError: x"}', Outcome("failed", "KeyError: x"), id="failed-error"),
    pytest.param('{"state": "up_for_reschedule", "reschedule_at": "2026-01-01T00:05:00Z"}',
                 Outcome("up_for_reschedule", reschedule_at=datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc)),
                 id="reschedule-zulu"),
    pytest.param('{"state": "up_for_reschedule", "reschedule_at": "2026-01-01T00:05:00"}',
                 Outcome("up_for_reschedule", reschedule_at=datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc)),
                 id="reschedule-naive-is-utc"),
    pytest.param('{"state": "up_for_reschedule", "reschedule_at": "soon"}', Outcome("up_for_reschedule"),
                 id="reschedule-bad-time-dropped"),
    pytest.param('{"state": "skipped", "extra": 1}', Outcome("skipped"), id="unknown-keys-ignored"),
    pytest.param('{"state": "timeout", "error": ""}', Outcome("timeout"), id="empty-error"),
    pytest.param('{"state": "failed", "retry": false}', Outcome("failed", retry=False), id="final-failure"),
    pytest.param('{"state": "failed", "retry": "no"}', Outcome("failed"), id="retry-only-false-counts"),
    pytest.param('{"state": "exploded"}', None, id="unknown-state"),
    pytest.param('{"error": "x"}', None, id="no-state"),
    pytest.param("not json", None, id="not-json"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="none"),
    pytest.param("[1]", None, id="not-an-object"),
    pytest.param('{"state": "success", "error": "' + "x" * 5000 + '"}', None, id="over-4kb"),
])
def test_parse_outcome(text: str | None, expected: Outcome | None) -> None:
    assert parse_outcome(text) == expected


def test_long_errors_are_cut_for_the_status() -> None:
    out = parse_outcome('{"state": "failed", "error": "' + "e" * 3000 + '"}')
    assert out is not None and out.error == "e" * 1024


def pod(**kw: object) -> ObservedPod:
    return ObservedPod(name="p", task_id="t", attempt=1, **kw)  # type: ignore[arg-type]


FAILED_REPORT = Outcome("failed", "boom")
CLASSIFY = [
    # id, pod, kind, outcome state, reason
    ("pending", pod(phase="Pending"), "pending", None, None),
    ("running", pod(phase="Running"), "running", None, None),
    ("unknown-phase-is-still-alive", pod(phase="Unknown"), "running", None, None),
    ("succeeded-no-report", pod(phase="Succeeded", exit_code=0), "done", "success", None),
    ("succeeded-skipped", pod(phase="Succeeded", outcome=Outcome("skipped")), "done", "skipped", None),
    ("succeeded-reschedule", pod(phase="Succeeded", outcome=Outcome("up_for_reschedule")), "done",
     "up_for_reschedule", None),
    ("succeeded-despite-disruption", pod(phase="Succeeded", disruption="DeletionByPodGC"), "done", "success", None),
    ("failed-exit", pod(phase="Failed", exit_code=2), "done", "failed", None),
    ("failed-report", pod(phase="Failed", outcome=FAILED_REPORT), "done", "failed", None),
    ("failed-report-retry", pod(phase="Failed", outcome=Outcome("up_for_retry", "x")), "done", "up_for_retry", None),
    ("failed-report-timeout", pod(phase="Failed", outcome=Outcome("timeout", "x")), "done", "timeout", None),
    ("failed-but-reported-success", pod(phase="Failed", exit_code=1, outcome=Outcome("success")), "done", "failed",
     None),
    ("pod-deadline", pod(phase="Failed", reason="DeadlineExceeded", ran=True), "done", "timeout", None),
    # activeDeadlineSeconds counts image pull too: a pod whose container never started did not time out
    ("pod-deadline-before-start", pod(phase="Failed", reason="DeadlineExceeded"), "infra", None,
     "the pod's deadline passed before its container started"),
    # kubectl delete pod: SIGTERM, exit 143, phase Failed with no report: not the task's failure
    ("deleted-then-failed", pod(phase="Failed", deleted=True, exit_code=143), "infra", None, "pod deleted"),
    ("oom-is-the-task's", pod(phase="Failed", reason="OOMKilled", exit_code=137), "done", "failed", None),
    ("evicted", pod(phase="Failed", reason="Evicted"), "infra", None, "Evicted"),
    ("evicted-despite-sigterm-report", pod(phase="Failed", reason="Evicted", outcome=FAILED_REPORT), "infra", None,
     "Evicted"),
    ("node-shutdown", pod(phase="Failed", reason="NodeShutdown"), "infra", None, "NodeShutdown"),
    ("graceful-shutdown-terminated", pod(phase="Failed", reason="Terminated"), "infra", None, "Terminated"),
    ("node-lost-legacy", pod(phase="Failed", reason="NodeLost"), "infra", None, "NodeLost"),
    ("admission-outofcpu", pod(phase="Failed", reason="OutOfcpu"), "infra", None, "OutOfcpu"),
    ("admission-node-affinity", pod(phase="Failed", reason="NodeAffinity"), "infra", None, "NodeAffinity"),
    ("admission-unexpected", pod(phase="Failed", reason="UnexpectedAdmissionError"), "infra", None,
     "UnexpectedAdmissionError"),
    ("container-lost-with-node", pod(phase="Failed", reason="ContainerStatusUnknown", exit_code=137), "infra", None,
     "ContainerStatusUnknown"),
    ("preempted", pod(phase="Failed", disruption="PreemptionByScheduler"), "infra", None, "PreemptionByScheduler"),
    ("taint-eviction", pod(phase="Failed", disruption="DeletionByTaintManager", outcome=FAILED_REPORT), "infra",
     None, "DeletionByTaintManager"),
    ("pod-gc-of-lost-node", pod(phase="Failed", disruption="DeletionByPodGC"), "infra", None, "DeletionByPodGC"),
    ("deleted-running", pod(phase="Running", deleted=True), "infra", None, "pod deleted"),
    ("deleted-pending", pod(phase="Pending", deleted=True), "infra", None, "pod deleted"),
    ("deleted-unknown", pod(phase="Unknown", deleted=True, disruption="DeletionByTaintManager"), "infra", None,
     "DeletionByTaintManager"),
    ("running-awaiting-preemption", pod(phase="Running", disruption="PreemptionByScheduler"), "running", None, None),
    ("unrelated-disruption-reason", pod(phase="Failed", disruption="Whatever", exit_code=3), "done", "failed", None),
]


@pytest.mark.parametrize(("p", "kind", "state", "reason"),
                         [pytest.param(p, k, s, r, id=i) for i, p, k, s, r in CLASSIFY])
def test_classify_pod(p: ObservedPod, kind: str, state: str | None, reason: str | None) -> None:
    result = classify_pod(p)
    assert result.kind == kind
    assert (result.outcome.state if result.outcome else None) == state
    assert result.reason == reason


@pytest.mark.parametrize(("p", "needle"), [
    pytest.param(pod(phase="Failed", exit_code=2), "exited with code 2", id="exit-code"),
    pytest.param(pod(phase="Failed", reason="OOMKilled"), "OOMKilled", id="oom"),
    pytest.param(pod(phase="Failed", reason="DeadlineExceeded", ran=True), "execution_timeout", id="deadline"),
    pytest.param(pod(phase="Failed"), "pod failed", id="nothing-known"),
    pytest.param(pod(phase="Failed", outcome=FAILED_REPORT), "boom", id="runner-error-wins"),
])
def test_failure_messages_say_why(p: ObservedPod, needle: str) -> None:
    out = classify_pod(p).outcome
    assert out is not None and needle in (out.error or "")
