"""Retry delays as Airflow's TaskInstance.next_retry_datetime computes them
(test_airflow_parity.py compares with Airflow itself)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from updraft.definition.model import Task
from updraft.engine import retry_delay

LD = datetime(2026, 1, 1, tzinfo=timezone.utc)


def t(**kw: object) -> Task:
    return Task("load", "op", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("task", "try_number", "expected"), [
    pytest.param(t(retry_delay=timedelta(seconds=30)), 1, timedelta(seconds=30), id="plain-1"),
    pytest.param(t(retry_delay=timedelta(seconds=30)), 3, timedelta(seconds=30), id="plain-3"),
    pytest.param(t(retry_delay=timedelta(0)), 1, timedelta(0), id="plain-zero"),
    pytest.param(t(retry_delay=timedelta(seconds=300), max_retry_delay=timedelta(seconds=10)), 1,
                 timedelta(seconds=300), id="plain-ignores-max-retry-delay"),
    pytest.param(t(retry_delay=timedelta(seconds=10), retry_exponential_backoff=True,
                   max_retry_delay=timedelta(seconds=100)), 8, timedelta(seconds=100), id="exp-capped-by-max"),
    pytest.param(t(retry_delay=timedelta(hours=1), retry_exponential_backoff=True), 40, timedelta(days=1),
                 id="exp-capped-at-one-day"),
    pytest.param(t(retry_delay=timedelta(seconds=1), retry_exponential_backoff=True), 5000, timedelta(days=1),
                 id="exp-overflow-capped"),
])
def test_retry_delay(task: Task, try_number: int, expected: timedelta) -> None:
    assert retry_delay(task, try_number, "dag", LD) == expected


@pytest.mark.parametrize("try_number", [1, 2, 3])
def test_exponential_backoff_grows_within_airflows_band(try_number: int) -> None:
    task = t(retry_delay=timedelta(seconds=10), retry_exponential_backoff=True)
    low = 10 * 2 ** (try_number - 1)
    d = retry_delay(task, try_number, "dag", LD).total_seconds()
    assert low <= d < 2 * low
    assert retry_delay(task, try_number, "dag", LD) == retry_delay(task, try_number, "dag", LD)  # deterministic


def test_zero_delay_backoff_is_at_least_a_second() -> None:
    task = t(retry_delay=timedelta(0), retry_exponential_backoff=True)
    assert retry_delay(task, 1, "dag", LD) == timedelta(seconds=1)


def test_spread_depends_on_the_run_not_on_chance() -> None:
    task = t(retry_delay=timedelta(seconds=100), retry_exponential_backoff=True)
    delays = {retry_delay(task, 1, "dag", LD + timedelta(days=d)) for d in range(10)}
    assert len(delays) > 1  # different runs spread out
