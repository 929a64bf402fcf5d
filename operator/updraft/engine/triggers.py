"""Airflow's trigger rules over the states of a task's direct upstream tasks (pure).

Mirrors `TriggerRuleDep._evaluate_direct_relatives` in airflow/ti_deps/deps/trigger_rule_dep.py
(Airflow 3.0.6) with `flag_upstream_failed` on, as the scheduler runs it: first the "give up"
verdicts (mark the task UPSTREAM_FAILED or SKIPPED), then the "may run now" test. Like Airflow,
counts are over *finished* upstreams; a task waits while its rule can still go either way.

Differences, all forced by the serverless model and documented here once:
- Airflow counts only FAILED as `failed`. Our TIMEOUT and CANCELLED are Airflow's FAILED under
  another name (an Airflow timeout fails the task; a stopped run fails what it interrupts), so
  they count as failed.
- No setup/teardown tasks and no mapped tasks: `all_done_setup_success` therefore behaves as
  `all_done` (Airflow's setup clauses are vacuous without upstream setups), and REMOVED never
  occurs.
"""

from __future__ import annotations

from collections.abc import Sequence

from updraft.model.states import TaskState

RUN, WAIT, SKIP, UPSTREAM_FAILED = "run", "wait", "skip", "upstream_failed"
_FAILED = frozenset({TaskState.FAILED, TaskState.TIMEOUT, TaskState.CANCELLED})


def decide(rule: str, upstream: Sequence[str]) -> str:
    """RUN, WAIT, SKIP or UPSTREAM_FAILED for a task whose direct upstream tasks are in `upstream`."""
    if not upstream or rule == "always":
        return RUN
    n = len(upstream)
    success = sum(s == TaskState.SUCCESS for s in upstream)
    skipped = sum(s == TaskState.SKIPPED for s in upstream)
    failed = sum(s in _FAILED for s in upstream)
    upstream_failed = sum(s == TaskState.UPSTREAM_FAILED for s in upstream)
    done = success + skipped + failed + upstream_failed
    all_done = done >= n

    # 1. Airflow's "new_state" block: verdicts that end the task without running it.
    give_up: str | None = None
    if rule == "all_success":
        give_up = UPSTREAM_FAILED if (failed or upstream_failed) else SKIP if skipped else None
    elif rule == "all_failed":
        give_up = SKIP if (success or skipped) else None
    elif rule == "one_success":
        if all_done and done == skipped:
            give_up = SKIP
        elif all_done and success <= 0:
            give_up = UPSTREAM_FAILED
    elif rule == "one_failed":
        give_up = SKIP if all_done and not (failed or upstream_failed) else None
    elif rule == "one_done":
        give_up = SKIP if all_done and not (failed or success) else None
    elif rule == "none_failed":
        give_up = UPSTREAM_FAILED if (failed or upstream_failed) else None
    elif rule == "none_failed_min_one_success":
        give_up = UPSTREAM_FAILED if (failed or upstream_failed) else SKIP if skipped == n else None
    elif rule == "none_skipped":
        give_up = SKIP if skipped else None
    elif rule == "all_skipped":
        give_up = SKIP if (success or failed or upstream_failed) else None
    elif rule not in ("all_done", "all_done_setup_success"):
        raise ValueError(f"unknown trigger rule {rule!r}")
    if give_up is not None:
        return give_up

    # 2. Airflow's "failing status" block: may the task run now?
    ready = {
        "all_success": success == n,
        "all_failed": failed + upstream_failed == n,
        "all_done": all_done,
        "all_done_setup_success": all_done,
        "all_skipped": skipped == n,
        "one_success": success > 0,
        "one_failed": bool(failed or upstream_failed),
        "one_done": success + failed > 0,
        "none_failed": success + skipped == n,
        "none_failed_min_one_success": success + skipped == n,
        "none_skipped": all_done and not skipped,
    }[rule]
    return RUN if ready else WAIT
