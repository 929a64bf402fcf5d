"""Table tests: trigger rules, pod classification, the runner's outcome contract, retry delays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from updraft.definition.model import Task
from updraft.engine import ObservedPod, Outcome, classify, parse_outcome, retry_delay
from updraft.engine.triggers import RUN, SKIP, UPSTREAM_FAILED, WAIT, decide

S, F, UF, K, N, R, T = "SUCCESS", "FAILED", "UPSTREAM_FAILED", "SKIPPED", "NONE", "RUNNING", "TIMEOUT"

TRIGGERS = [
    ("all_success", [S, S], RUN), ("all_success", [S, R], WAIT), ("all_success", [S, F], UPSTREAM_FAILED),
    ("all_success", [S, UF], UPSTREAM_FAILED), ("all_success", [S, K], SKIP), ("all_success", [T, R], UPSTREAM_FAILED),
    ("all_failed", [F, F], RUN), ("all_failed", [F, S], SKIP), ("all_failed", [F, R], WAIT),
    ("all_done", [S, F], RUN), ("all_done", [S, R], WAIT), ("all_done", [K, UF], RUN),
    ("all_skipped", [K, K], RUN), ("all_skipped", [K, S], SKIP),
    ("one_success", [R, S], RUN), ("one_success", [F, F], UPSTREAM_FAILED), ("one_success", [K, K], SKIP),
    ("one_success", [F, R], WAIT),
    ("one_failed", [R, F], RUN), ("one_failed", [S, S], SKIP), ("one_failed", [S, R], WAIT),
    ("one_done", [R, F], RUN), ("one_done", [K, K], SKIP),
    ("none_failed", [S, K], RUN), ("none_failed", [S, F], UPSTREAM_FAILED), ("none_failed", [S, R], WAIT),
    ("none_failed_min_one_success", [S, K], RUN), ("none_failed_min_one_success", [K, K], SKIP),
    ("none_failed_min_one_success", [S, F], UPSTREAM_FAILED),
    ("none_skipped", [S, F], RUN), ("none_skipped", [S, K], SKIP), ("none_skipped", [S, R], WAIT),
    ("always", [R, N], RUN), ("all_success", [], RUN),
]


@pytest.mark.parametrize(("rule", "upstream", "verdict"), TRIGGERS,
                         ids=[f"{r}-{'+'.join(u) or 'none'}" for r, u, _ in TRIGGERS])
def test_trigger_rules(rule: str, upstream: list[str], verdict: str) -> None:
    assert decide(rule, upstream) == verdict


def pod(**kw: object) -> ObservedPod:
    return ObservedPod(name="p", task_id="t", attempt=1, **kw)  # type: ignore[arg-type]


CLASSIFY = [
    ("pending", pod(phase="Pending"), "pending", None),
    ("running", pod(phase="Running"), "running", None),
    ("succeeded-no-report", pod(phase="Succeeded", exit_code=0), "done", "success"),
    ("succeeded-skipped", pod(phase="Succeeded", outcome=Outcome("skipped")), "done", "skipped"),
    ("failed-exit", pod(phase="Failed", exit_code=2), "done", "failed"),
    ("failed-report", pod(phase="Failed", outcome=Outcome("up_for_retry", "x")), "done", "up_for_retry"),
    ("deadline", pod(phase="Failed", reason="DeadlineExceeded"), "done", "timeout"),
    ("oom", pod(phase="Failed", reason="OOMKilled"), "done", "failed"),
    ("evicted", pod(phase="Failed", reason="Evicted"), "infra", None),
    ("preempted", pod(phase="Failed", disruption="PreemptionByScheduler"), "infra", None),
    ("node-lost", pod(phase="Unknown"), "infra", None),
    ("deleted-running", pod(phase="Running", deleted=True), "infra", None),
]


@pytest.mark.parametrize(("p", "kind", "state"), [pytest.param(p, k, s, id=i) for i, p, k, s in CLASSIFY])
def test_classify(p: ObservedPod, kind: str, state: str | None) -> None:
    result = classify(p)
    assert result.kind == kind
    assert (result.outcome.state if result.outcome else None) == state


@pytest.mark.parametrize(("text", "state"), [
    ('{"state": "success"}', "success"),
    ('{"state": "up_for_reschedule", "reschedule_at": "2026-01-01T00:05:00Z"}', "up_for_reschedule"),
    ('{"state": "exploded"}', None), ("not json", None), ("", None), ("[1]", None),
])
def test_parse_outcome(text: str, state: str | None) -> None:
    out = parse_outcome(text)
    assert (out.state if out else None) == state


def test_retry_delay_plain_and_exponential() -> None:
    plain = Task("t", "op", retry_delay=timedelta(seconds=30))
    assert retry_delay(plain, 3, "r") == timedelta(seconds=30)
    exp = Task("t", "op", retry_delay=timedelta(seconds=10), retry_exponential_backoff=True,
               max_retry_delay=timedelta(seconds=100))
    for attempt in (1, 2, 3):
        d = retry_delay(exp, attempt, "r").total_seconds()
        assert 10 * 2 ** (attempt - 1) <= d < 2 * 10 * 2 ** (attempt - 1) or d == 100
        assert retry_delay(exp, attempt, "r") == retry_delay(exp, attempt, "r")  # deterministic
    assert retry_delay(exp, 8, "r") == timedelta(seconds=100)
