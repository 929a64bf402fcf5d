"""Which waiting runs may start now (pure).

A run holds a concurrency slot from the moment it is admitted (RUNNING, STOPPING) until it ends.
Waiting runs (STARTING, QUEUED, or no state yet) are admitted in creation order, ties broken by
name, while both their workflow's max_active_runs and the cluster-wide limit leave room. A
workflow at its own limit does not hold back other workflows' runs; the cluster limit holds back
everyone. The answer depends only on the inputs: given every run with its workflow's limit
(`updraft.plan.admission`), every operator replica computes the same one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from updraft.model.states import RunState

DEFAULT_CLUSTER_LIMIT = 100
DEFAULT_MAX_ACTIVE_RUNS = 16


@dataclass(frozen=True)
class RunSlot:
    """What admission needs to know of a run. Names must be unique across the cluster
    (e.g. `namespace/name`), and so must workflow keys."""

    name: str
    workflow: str
    created_at: datetime
    state: str  # the run state (RUNNING, QUEUED, ...); "" when the run has none yet


def admit(candidates: Iterable[RunSlot], active: Iterable[RunSlot], per_workflow_limits: Mapping[str, int],
          cluster_limit: int = DEFAULT_CLUSTER_LIMIT,
          default_max_active_runs: int = DEFAULT_MAX_ACTIVE_RUNS) -> list[str]:
    """Names of the waiting runs to start now, in the order they were admitted.

    `candidates` are runs that may be waiting (others are ignored); `active` are runs that may
    hold a slot (only RUNNING and STOPPING count). A workflow missing from `per_workflow_limits`
    gets `default_max_active_runs`."""
    holding = {r.name: r for r in active if r.state in RunState.HOLDING}
    per_workflow = Counter(r.workflow for r in holding.values())
    total = len(holding)
    waiting = {r.name: r for r in candidates if r.state in RunState.WAITING and r.name not in holding}
    out: list[str] = []
    for r in sorted(waiting.values(), key=lambda r: (r.created_at, r.name)):
        if total >= cluster_limit:
            break
        if per_workflow[r.workflow] >= per_workflow_limits.get(r.workflow, default_max_active_runs):
            continue
        out.append(r.name)
        per_workflow[r.workflow] += 1
        total += 1
    return out


def admitted(runs: Iterable[RunSlot], per_workflow: Mapping[str, int], cluster_limit: int,
             default_per_workflow: int = DEFAULT_MAX_ACTIVE_RUNS) -> set[str]:
    """`admit` over one list holding every run, as a set (what the run handler asks)."""
    runs = list(runs)
    return set(admit(runs, runs, per_workflow, cluster_limit, default_per_workflow))
