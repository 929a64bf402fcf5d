"""Deterministic names of scheduled runs: the same workflow and fire time always give the same
name, so a restarted operator, a second replica or a replayed watch can only create it once
(the second create meets AlreadyExists)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

MAX_NAME = 63  # a DNS label, so the name also works where a label value or a pod prefix is needed
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")


def scheduled_run_name(workflow: str, fire_time: datetime) -> str:
    """`<workflow>-s-<YYYYMMDDHHMM>`, the fire time in UTC (cron fire times are whole minutes).

    The result is a lowercase DNS label of at most 63 characters. A workflow name that is already
    a short DNS label is kept as is; otherwise (too long, or with dots or capitals) it is cut and
    given 8 hex digits of its SHA-256, so distinct workflows never share run names."""
    if fire_time.tzinfo is None or fire_time.utcoffset() is None:
        raise ValueError("fire_time must be timezone-aware")
    stamp = fire_time.astimezone(timezone.utc).strftime("%Y%m%d%H%M")
    suffix = f"-s-{stamp}"
    return _with_suffix(workflow, suffix)


def manual_run_name(workflow: str, request_key: str) -> str:
    """`<workflow>-m-<12 hex>` for a run started on request: the hex is derived from `request_key`
    (the API's ClientToken with the workflow's uid), so a retried request names the same run and
    cannot start a second one. Same length and folding rules as scheduled_run_name."""
    return _with_suffix(workflow, "-m-" + hashlib.sha256(request_key.encode()).hexdigest()[:12])


def _with_suffix(workflow: str, suffix: str) -> str:
    room = MAX_NAME - len(suffix)
    cleaned = _NOT_LABEL.sub("-", workflow.lower()).strip("-")
    if cleaned == workflow and 0 < len(workflow) <= room:
        return workflow + suffix
    digest = hashlib.sha256(workflow.encode()).hexdigest()[:8]
    head = cleaned[: room - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}" if head else f"w-{digest}{suffix}"
