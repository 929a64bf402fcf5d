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


class AdmissionBook:
    """`is_admitted` for many waiting runs over one unchanged set of runs, at the cost of one:
    the admitted set of the whole index is computed once per `version` of it (the operator bumps
    the version on every run event), and a run's question is answered from it when its own
    answer cannot differ: its workflow's recorded limit is the one it asks with, and the index
    holds the run as it is. Otherwise (a run's first pass, a version the index has not caught up
    with) the question is computed in full. With a thousand queued runs this turns a thousand
    sorts of a thousand runs into one."""

    def __init__(self) -> None:
        self._version: tuple[int, int] | None = None
        self._admitted: set[str] = set()
        self._limits: dict[str, int] = {}
        self._views: dict[str, WorkflowRun] = {}

    def is_admitted(self, version: int, runs: list[WorkflowRun], current: WorkflowRun, current_limit: int,
                    cluster_limit: int) -> bool:
        if (version, cluster_limit) != self._version:
            slots, self._limits = _slots_and_limits(runs)
            self._admitted = admitted(slots, self._limits, cluster_limit)
            self._views = {_key(r.namespace, r.name): r for r in runs}
            self._version = (version, cluster_limit)
        key = _key(current.namespace, current.name)
        known = self._views.get(key)
        if (self._limits.get(_key(current.namespace, current.workflow)) == current_limit and known is not None
                and known.uid == current.uid and known.run_state == current.run_state
                and known.created_at == current.created_at):
            return key in self._admitted
        return is_admitted(runs, current, current_limit, cluster_limit)


def admitted_now(runs: Iterable[WorkflowRun], cluster_limit: int) -> set[tuple[str, str]]:
    """(namespace, name) of every waiting run that may start now, each workflow at the
    max_active_runs its runs recorded (the quota's default where none did yet): the runs the
    operator wakes when a slot frees. Each run's own pass still decides with `is_admitted`."""
    slots, limits = _slots_and_limits(list(runs))
    return {(ns, name) for ns, _, name in (k.partition("/") for k in admitted(slots, limits, cluster_limit))}


def slot_view(body: Mapping[str, Any]) -> WorkflowRun:
    """What admission, the schedule and the workflow's reconcile need to remember of a run (kept
    for every run in the operator's index): its identity, spec, creation time, state, recorded
    max_active_runs and version, and when it completed. The rest of the status (task instances) is dropped: the index stays small."""
    status = body.get("status") or {}
    kept = {k: status[k] for k in ("runState", "maxActiveRuns", "completedOn", "finalized", "workflowVersion")
            if k in status}
    return WorkflowRun.from_body({"metadata": body["metadata"], "spec": body.get("spec") or {}, "status": kept})


def active_runs(runs: Iterable[WorkflowRun], namespace: str, workflow: str) -> int:
    """How many runs of a workflow are not finished (Airflow's count against max_active_runs)."""
    return sum(1 for r in runs if r.namespace == namespace and r.workflow == workflow and not r.is_final)
