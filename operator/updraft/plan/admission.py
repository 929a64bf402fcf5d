"""Admission input, assembled purely from the WorkflowRun objects: every run's slot, and every
workflow's max_active_runs as its runs recorded it (`status.maxActiveRuns`, written from the run's
version when the operator first reads it), so every replica asks `quota.admitted` the same
question and gets the same answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from updraft.model.run import WorkflowRun
from updraft.quota import RunSlot, admitted

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def _slots_and_limits(runs: list[WorkflowRun]) -> tuple[list[RunSlot], dict[str, int]]:
    """The runs as admission's slots, and each workflow's max_active_runs as its runs recorded it
    (the newest record wins)."""
    slots = [RunSlot(_key(r.namespace, r.name), _key(r.namespace, r.workflow), r.created_at or _EPOCH, r.run_state)
             for r in runs]
    limits: dict[str, int] = {}
    for r in sorted(runs, key=lambda r: (r.created_at or _EPOCH, r.name)):
        recorded = r.status.get("maxActiveRuns")
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded > 0:
            limits[_key(r.namespace, r.workflow)] = recorded
    return slots, limits


def is_admitted(runs: Iterable[WorkflowRun], current: WorkflowRun, current_limit: int, cluster_limit: int) -> bool:
    """Whether `current` (waiting) may start now, given every run of the cluster (or namespace)."""
    slots, limits = _slots_and_limits([r for r in runs if r.uid != current.uid] + [current])
    limits[_key(current.namespace, current.workflow)] = current_limit
    return _key(current.namespace, current.name) in admitted(slots, limits, cluster_limit)


def admitted_now(runs: Iterable[WorkflowRun], cluster_limit: int) -> set[tuple[str, str]]:
    """(namespace, name) of every waiting run that may start now, each workflow at the
    max_active_runs its runs recorded (the quota's default where none did yet): the runs the
    operator wakes when a slot frees. Each run's own pass still decides with `is_admitted`."""
    slots, limits = _slots_and_limits(list(runs))
    return {(ns, name) for ns, _, name in (k.partition("/") for k in admitted(slots, limits, cluster_limit))}


def slot_view(body: Mapping[str, Any]) -> WorkflowRun:
    """What admission and the schedule need to remember of a run (kept for every run in the
    operator's index): its identity, workflow, creation time, state, recorded max_active_runs and
    when it completed. The rest of the status (task instances) is dropped: the index stays small."""
    status = body.get("status") or {}
    kept = {k: status[k] for k in ("runState", "maxActiveRuns", "completedOn", "finalized") if k in status}
    return WorkflowRun.from_body({"metadata": body["metadata"], "spec": body.get("spec") or {}, "status": kept})


def active_runs(runs: Iterable[WorkflowRun], namespace: str, workflow: str) -> int:
    """How many runs of a workflow are not finished (Airflow's count against max_active_runs)."""
    return sum(1 for r in runs if r.namespace == namespace and r.workflow == workflow and not r.is_final)
