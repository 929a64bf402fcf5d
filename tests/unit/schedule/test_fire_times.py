"""Fire-time tables with hand-checked instants, including every DST case Airflow handles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from updraft.schedule import ScheduleError, fire_times, latest_missed, next_fire, parse, scheduled_run_name


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


TABLE = [
    # (id, cron, zone, after (UTC), expected fire times (UTC))
    ("utc-daily", "0 0 * * *", "UTC", "2026-01-01T00:00", ["2026-01-02T00:00", "2026-01-03T00:00"]),
    ("strictly-after", "0 0 * * *", "UTC", "2025-12-31T23:59", ["2026-01-01T00:00", "2026-01-02T00:00"]),
    ("gap-daily-shifted-forward", "30 2 * * *", "Europe/Paris", "2026-03-28T12:00",
     ["2026-03-29T01:30", "2026-03-30T00:30"]),  # 02:30 does not exist on the 29th: 03:30 CEST
    ("overlap-daily-fires-once", "30 1 * * *", "America/New_York", "2026-10-31T12:00",
     ["2026-11-01T06:30", "2026-11-02T06:30"]),  # 01:30 happens twice: the second (EST) only
    ("overlap-hourly-fires-twice", "30 * * * *", "Europe/Zurich", "2026-10-25T00:00",
     ["2026-10-25T00:30", "2026-10-25T01:30", "2026-10-25T02:30"]),  # 02:30 CEST, 02:30 CET, 03:30 CET
    ("gap-hourly-no-double", "30 * * * *", "Europe/Berlin", "2026-03-29T00:00",
     ["2026-03-29T00:30", "2026-03-29T01:30", "2026-03-29T02:30"]),  # 01:30 CET, 03:30 CEST, 04:30 CEST
    ("half-hour-zone", "0 9 * * *", "Asia/Kolkata", "2026-06-01T00:00", ["2026-06-01T03:30", "2026-06-02T03:30"]),
    ("45-minute-zone", "0 9 * * *", "Asia/Kathmandu", "2026-06-01T00:00", ["2026-06-01T03:15", "2026-06-02T03:15"]),
    ("lord-howe-30-min-dst", "0 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00",
     ["2026-10-03T15:30", "2026-10-04T15:00"]),  # +10:30 then +11:00 after 4 Oct 02:00
    ("leap-day", "0 0 29 2 *", "UTC", "2026-01-01T00:00", ["2028-02-29T00:00", "2032-02-29T00:00"]),
    ("preset-weekly", "@weekly", "UTC", "2026-11-18T00:00", ["2026-11-22T00:00", "2026-11-29T00:00"]),
    ("weekdays", "0 9 * * 1-5", "UTC", "2026-11-20T10:00", ["2026-11-23T09:00", "2026-11-24T09:00"]),
]


@pytest.mark.parametrize(("cron", "zone", "after", "expected"), [pytest.param(*t[1:], id=t[0]) for t in TABLE])
def test_fire_times(cron: str, zone: str, after: str, expected: list[str]) -> None:
    got = fire_times(parse(cron, zone), utc(after), len(expected))
    assert got == [utc(e) for e in expected]


def test_start_and_end_bound_the_schedule() -> None:
    s = parse("0 12 * * *", "UTC", start=utc("2026-05-10T12:00"), end=utc("2026-05-12T12:00"))
    assert fire_times(s, utc("2026-01-01T00:00"), 10) == [utc("2026-05-10T12:00"), utc("2026-05-11T12:00"),
                                                          utc("2026-05-12T12:00")]


def test_once_fires_at_start_only() -> None:
    s = parse("@once", "UTC", start=utc("2026-05-10T08:00"))
    assert fire_times(s, utc("2026-01-01T00:00"), 5) == [utc("2026-05-10T08:00")]
    assert next_fire(s, utc("2026-05-10T08:00")) is None


def test_no_schedule_never_fires() -> None:
    assert next_fire(parse(None), utc("2026-01-01T00:00")) is None
    assert next_fire(parse("None"), utc("2026-01-01T00:00")) is None


@pytest.mark.parametrize(("cron", "zone", "field"), [
    ("61 * * * *", "UTC", "cron"), ("* * * *", "UTC", "cron"), ("@fortnightly", "UTC", "cron"),
    ("@daily", "Nowhere/Land", "timezone"),
])
def test_parse_errors_name_the_field(cron: str, zone: str, field: str) -> None:
    with pytest.raises(ScheduleError) as e:
        parse(cron, zone)
    assert e.value.field == field


def test_latest_missed_runs_only_the_most_recent_within_the_deadline() -> None:
    s = parse("*/10 * * * *", "UTC")
    now = utc("2026-01-01T12:34")
    # down since 09:00: only 12:30 is started, and only if within the deadline
    assert latest_missed(s, utc("2026-01-01T09:00"), now, timedelta(minutes=5)) == utc("2026-01-01T12:30")
    assert latest_missed(s, utc("2026-01-01T09:00"), now, timedelta(minutes=3)) is None
    # nothing missed: the last fire time was already handled
    assert latest_missed(s, utc("2026-01-01T12:30"), now, timedelta(minutes=5)) is None


def test_run_names_are_deterministic_and_valid() -> None:
    t = utc("2026-03-29T01:30")
    assert scheduled_run_name("nightly-etl", t) == "nightly-etl-s-202603290130"
    assert scheduled_run_name("nightly-etl", t) == scheduled_run_name("nightly-etl", t.astimezone(timezone(timedelta(hours=2))))
    long = scheduled_run_name("w" * 200, t)
    assert len(long) <= 63 and long.endswith("-s-202603290130")
    assert long != scheduled_run_name("w" * 199 + "x", t)
