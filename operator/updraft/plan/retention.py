"""Which finished runs to delete (pure): a workflow keeps its newest `keep` finished runs, and
none that finished more than `max_age` ago. Unfinished runs are never candidates. Deleting a run
deletes what it owns with it (its pods, token Secrets, XCom ConfigMap)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from updraft.model.run import WorkflowRun
from updraft.model.times import parse_ts

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def finished_at(run: WorkflowRun) -> datetime:
    return parse_ts(run.status.get("completedOn")) or run.created_at or _EPOCH


def expired(runs: Iterable[WorkflowRun], keep: int, max_age: timedelta, now: datetime) -> list[str]:
    """Names of the finished runs to delete, oldest first."""
    finished = sorted((r for r in runs if r.is_final), key=lambda r: (finished_at(r), r.name), reverse=True)
    out = [r for i, r in enumerate(finished) if i >= keep or now - finished_at(r) > max_age]
    return [r.name for r in reversed(out)]
