"""When the next attempt of a failed task may start (pure), as Airflow computes it.

Mirrors `TaskInstance.next_retry_datetime` (airflow/models/taskinstance.py, Airflow 3.0.6):
- plain: `retry_delay` after the failed attempt ended;
- `retry_exponential_backoff`: min_backoff = ceil(retry_delay * 2 ** (try_number - 1)) (at least
  1 s), plus a deterministic spread of `sha1("<dag_id>#<task_id>#<logical_date>#<try_number>")
  % min_backoff`, capped at MAX_RETRY_DELAY (Airflow's [core] max_task_retry_delay default,
  24 h) and then at the task's `max_retry_delay`.
The spread is derived from names and the logical date, never from a random source, so the same
run asks for the same delay after an operator restart.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from updraft.definition.model import Task

MAX_RETRY_DELAY = timedelta(days=1)


def retry_delay(task: Task, try_number: int, dag_id: str, logical_date: datetime) -> timedelta:
    """How long after attempt `try_number` ended attempt `try_number + 1` may start."""
    delay = task.retry_delay
    if not task.retry_exponential_backoff:
        return delay
    cap = int(MAX_RETRY_DELAY.total_seconds())
    try:
        min_backoff = math.ceil(delay.total_seconds() * (2 ** (try_number - 1)))
    except OverflowError:
        min_backoff = cap
    min_backoff = max(1, min_backoff)
    # str(logical_date) as Airflow formats it in the f-string: "2026-01-01 00:00:00+00:00"
    seed = f"{dag_id}#{task.task_id}#{logical_date}#{try_number}"
    spread = int(hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest(), 16) % min_backoff
    backoff = timedelta(seconds=min(min_backoff + spread, cap))
    return min(backoff, task.max_retry_delay) if task.max_retry_delay else backoff
