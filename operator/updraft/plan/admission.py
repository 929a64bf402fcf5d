"""Admission input, assembled purely from the WorkflowRun objects: every run's slot, and every
workflow's max_active_runs as its runs recorded it (`status.maxActiveRuns`, written from the run's
version when the operator first reads it), so every replica asks `quota.admitted` the same
question and gets the same answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from updraft.model.run import WorkflowRun
from updraft.quota import RunSlot, admitted

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def is_admitted(runs: Iterable[WorkflowRun], current: WorkflowRun, current_limit: int, cluster_limit: int) -> bool:
    """Whether `current` (waiting) may start now, given every run of the cluster (or namespace)."""
    runs = [r for r in runs if r.uid != current.uid] + [current]
    slots = [RunSlot(_key(r.namespace, r.name), _key(r.namespace, r.workflow), r.created_at or _EPOCH, r.run_state)
             for r in runs]
    limits: dict[str, int] = {}
    for r in sorted(runs, key=lambda r: (r.created_at or _EPOCH, r.name)):  # the newest record wins
        recorded = r.status.get("maxActiveRuns")
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded > 0:
            limits[_key(r.namespace, r.workflow)] = recorded
    limits[_key(current.namespace, current.workflow)] = current_limit
    return _key(current.namespace, current.name) in admitted(slots, limits, cluster_limit)
