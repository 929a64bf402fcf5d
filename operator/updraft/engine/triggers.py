"""Airflow's trigger rules over the states of a task's upstream tasks (pure).

Mirrors airflow/ti_deps/deps/trigger_rule_dep.py (Airflow 3.0.6) for the states a serverless run
produces: a decision to run, to wait, to skip, or to mark the task UPSTREAM_FAILED. TIMEOUT and
CANCELLED upstreams count as failed, as Airflow counts any non-success terminal state.
"""

from __future__ import annotations

from collections.abc import Sequence

from updraft.engine.model import TaskState

RUN, WAIT, SKIP, UPSTREAM_FAILED = "run", "wait", "skip", "upstream_failed"
_FAILED = {TaskState.FAILED, TaskState.TIMEOUT, TaskState.CANCELLED}


def decide(rule: str, upstream: Sequence[str]) -> str:
    """RUN, WAIT, SKIP or UPSTREAM_FAILED for a task whose upstream tasks are in `upstream`."""
    if not upstream or rule == "always":
        return RUN
    n = len(upstream)
    success = sum(s == TaskState.SUCCESS for s in upstream)
    skipped = sum(s == TaskState.SKIPPED for s in upstream)
    failed = sum(s in _FAILED for s in upstream)
    upstream_failed = sum(s == TaskState.UPSTREAM_FAILED for s in upstream)
    done = success + skipped + failed + upstream_failed
    all_done = done == n

    if rule == "all_success":
        if failed or upstream_failed:
            return UPSTREAM_FAILED
        if skipped:
            return SKIP
        return RUN if success == n else WAIT
    if rule == "all_failed":
        if success or skipped:
            return SKIP
        return RUN if all_done else WAIT
    if rule in ("all_done", "all_done_setup_success"):
        return RUN if all_done else WAIT
    if rule == "all_skipped":
        if success or failed or upstream_failed:
            return SKIP
        return RUN if all_done else WAIT
    if rule == "one_success":
        if success:
            return RUN
        if not all_done:
            return WAIT
        return UPSTREAM_FAILED if failed or upstream_failed else SKIP
    if rule == "one_failed":
        if failed or upstream_failed:
            return RUN
        return SKIP if all_done else WAIT
    if rule == "one_done":
        if success or failed or upstream_failed:
            return RUN
        return SKIP if all_done else WAIT
    if rule == "none_failed":
        if failed or upstream_failed:
            return UPSTREAM_FAILED
        return RUN if all_done else WAIT
    if rule == "none_failed_min_one_success":
        if failed or upstream_failed:
            return UPSTREAM_FAILED
        if not all_done:
            return WAIT
        return RUN if success else SKIP
    if rule == "none_skipped":
        if skipped:
            return SKIP
        return RUN if all_done else WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")
