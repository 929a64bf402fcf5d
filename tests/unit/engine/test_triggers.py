"""Trigger rules, table-driven, as Airflow 3.0.6's TriggerRuleDep decides them (with
flag_upstream_failed, as the scheduler runs it). test_airflow_parity.py checks the same function
against Airflow itself over every combination."""

from __future__ import annotations

import pytest

from updraft.definition.model import TRIGGER_RULES
from updraft.engine.triggers import RUN, SKIP, UPSTREAM_FAILED, WAIT, decide

S, F, UF, K, N, R, T, C = "SUCCESS", "FAILED", "UPSTREAM_FAILED", "SKIPPED", "NONE", "RUNNING", "TIMEOUT", "CANCELLED"

TABLE = [
    # all_success: any failure -> upstream_failed, any skip -> skipped, else wait for all successes
    ("all_success", [S, S], RUN), ("all_success", [S, R], WAIT), ("all_success", [S, F], UPSTREAM_FAILED),
    ("all_success", [S, UF], UPSTREAM_FAILED), ("all_success", [S, K], SKIP), ("all_success", [T, R], UPSTREAM_FAILED),
    ("all_success", [C, S], UPSTREAM_FAILED), ("all_success", [K, F], UPSTREAM_FAILED), ("all_success", [K, R], SKIP),
    # all_failed: a success or a skip -> skipped; runs once all failed / upstream_failed
    ("all_failed", [F, F], RUN), ("all_failed", [F, UF], RUN), ("all_failed", [F, S], SKIP),
    ("all_failed", [F, R], WAIT), ("all_failed", [K, R], SKIP), ("all_failed", [T, F], RUN),
    # all_done / all_done_setup_success (no setups): once everything finished, whatever the outcome
    ("all_done", [S, F], RUN), ("all_done", [S, R], WAIT), ("all_done", [K, UF], RUN), ("all_done", [N, S], WAIT),
    ("all_done_setup_success", [F, K], RUN), ("all_done_setup_success", [F, R], WAIT),
    # all_skipped
    ("all_skipped", [K, K], RUN), ("all_skipped", [K, S], SKIP), ("all_skipped", [K, R], WAIT),
    ("all_skipped", [K, UF], SKIP),
    # one_success: runs on the first success; when all done: all skipped -> skipped, else upstream_failed
    ("one_success", [R, S], RUN), ("one_success", [F, F], UPSTREAM_FAILED), ("one_success", [K, K], SKIP),
    ("one_success", [F, R], WAIT), ("one_success", [K, F], UPSTREAM_FAILED), ("one_success", [UF, K], UPSTREAM_FAILED),
    # one_failed: runs on the first failure or upstream_failed; all done without one -> skipped
    ("one_failed", [R, F], RUN), ("one_failed", [R, UF], RUN), ("one_failed", [S, S], SKIP),
    ("one_failed", [S, R], WAIT), ("one_failed", [K, K], SKIP),
    # one_done: a success or a failure (not upstream_failed, not skipped) -> run
    ("one_done", [R, F], RUN), ("one_done", [R, S], RUN), ("one_done", [K, K], SKIP),
    ("one_done", [UF, R], WAIT), ("one_done", [UF, UF], SKIP), ("one_done", [UF, K], SKIP),
    # none_failed: any failure -> upstream_failed; runs when all succeeded or skipped
    ("none_failed", [S, K], RUN), ("none_failed", [K, K], RUN), ("none_failed", [S, F], UPSTREAM_FAILED),
    ("none_failed", [S, R], WAIT), ("none_failed", [UF, R], UPSTREAM_FAILED),
    # none_failed_min_one_success: as none_failed, but all skipped -> skipped
    ("none_failed_min_one_success", [S, K], RUN), ("none_failed_min_one_success", [K, K], SKIP),
    ("none_failed_min_one_success", [S, F], UPSTREAM_FAILED), ("none_failed_min_one_success", [K, R], WAIT),
    # none_skipped: a skip -> skipped; otherwise runs when all done, failures included
    ("none_skipped", [S, F], RUN), ("none_skipped", [S, K], SKIP), ("none_skipped", [S, R], WAIT),
    ("none_skipped", [UF, F], RUN),
    # always, and a task without upstream tasks
    ("always", [R, N], RUN), ("always", [F, UF], RUN), ("all_success", [], RUN), ("one_failed", [], RUN),
]


@pytest.mark.parametrize(("rule", "upstream", "verdict"), TABLE,
                         ids=[f"{r}-{'+'.join(u) or 'none'}" for r, u, _ in TABLE])
def test_trigger_rules(rule: str, upstream: list[str], verdict: str) -> None:
    assert decide(rule, upstream) == verdict


def test_every_rule_the_validator_accepts_is_decided() -> None:
    for rule in TRIGGER_RULES:
        assert decide(rule, [S]) in (RUN, WAIT, SKIP, UPSTREAM_FAILED)


def test_unknown_rule_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown trigger rule 'sometimes'"):
        decide("sometimes", [S])
