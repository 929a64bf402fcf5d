"""Deterministic names of scheduled runs: the same workflow and fire time always give the same
name, so a restarted operator, a second replica or a replayed watch can only create it once."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

MAX_NAME = 63


def scheduled_run_name(workflow: str, fire_time: datetime) -> str:
    """`<workflow>-s-<YYYYMMDDHHMM>` in UTC (fire times are whole minutes); long workflow names are
    shortened with a hash so the result stays a valid name of at most 63 characters."""
    stamp = fire_time.astimezone(timezone.utc).strftime("%Y%m%d%H%M")
    suffix = f"-s-{stamp}"
    room = MAX_NAME - len(suffix)
    base = workflow
    if len(base) > room:
        digest = hashlib.sha256(workflow.encode()).hexdigest()[:8]
        base = f"{workflow[: room - 9].rstrip('-.')}-{digest}"
    return base + suffix
