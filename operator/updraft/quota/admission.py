"""Which runs hold a concurrency slot (pure).

A run holds a slot from the moment it is admitted (RUNNING, STOPPING) until it ends. Waiting runs
(STARTING, QUEUED) are admitted in creation order (ties by name) while both their workflow's
max_active_runs and the cluster-wide limit leave room; the rest stay QUEUED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

HOLDING = frozenset({"RUNNING", "STOPPING"})
WAITING = frozenset({"STARTING", "QUEUED", ""})


@dataclass(frozen=True)
class RunSlot:
    key: str  # namespace/name
    workflow: str  # namespace/workflow
    created_at: datetime
    state: str


def admitted(runs: Iterable[RunSlot], per_workflow: Mapping[str, int], cluster_limit: int,
             default_per_workflow: int = 16) -> set[str]:
    """Keys of the waiting runs that may start now."""
    runs = list(runs)
    active = Counter(r.workflow for r in runs if r.state in HOLDING)
    total = sum(active.values())
    out: set[str] = set()
    for r in sorted((r for r in runs if r.state in WAITING), key=lambda r: (r.created_at, r.key)):
        if total >= cluster_limit:
            break
        if active[r.workflow] >= per_workflow.get(r.workflow, default_per_workflow):
            continue
        out.add(r.key)
        active[r.workflow] += 1
        total += 1
    return out
