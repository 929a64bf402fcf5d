"""Fire-time tables with hand-checked instants, including every DST case Airflow handles.

Each row says in its comment why the instants are right (wall time and offset on that date); the
differential test checks the same semantics against Airflow itself."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from updraft.model.names import scheduled_run_name
from updraft.schedule import (Schedule, ScheduleError, fire_times, latest_missed, next_due, next_fire, parse,
                              resolve_timezone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


TABLE = [
    # (id, cron, zone, after (UTC), expected fire times (UTC))
    ("utc-daily", "0 0 * * *", "UTC", "2026-01-01T00:00", ["2026-01-02T00:00", "2026-01-03T00:00"]),
    ("strictly-after", "0 0 * * *", "UTC", "2025-12-31T23:59", ["2026-01-01T00:00", "2026-01-02T00:00"]),
    ("strictly-after-seconds", "* * * * *", "UTC", "2026-01-01T00:00:01", ["2026-01-01T00:01", "2026-01-01T00:02"]),
    # --- DST gaps: a wall time that does not exist fires once, moved forward by the gap
    ("gap-daily-shifted-forward", "30 2 * * *", "Europe/Paris", "2026-03-28T12:00",
     ["2026-03-29T01:30", "2026-03-30T00:30"]),  # 02:30 missing on the 29th: 03:30 CEST
    ("gap-sub-hourly-in-gap-once", "*/20 2 * * *", "Europe/Berlin", "2026-03-28T12:00",
     ["2026-03-29T01:00", "2026-03-30T00:00", "2026-03-30T00:20"]),  # 02:00 -> 03:00 CEST; 02:20/02:40 lost
    ("gap-hourly-no-double", "30 * * * *", "Europe/Berlin", "2026-03-29T00:00",
     ["2026-03-29T00:30", "2026-03-29T01:30", "2026-03-29T02:30"]),  # 01:30 CET, 03:30 CEST, 04:30 CEST
    ("gap-adelaide-half-hour-zone", "30 2 * * *", "Australia/Adelaide", "2026-10-03T00:00",
     ["2026-10-03T17:00", "2026-10-04T16:00"]),  # 02:30 missing on 4 Oct: 03:30 +10:30
    ("gap-at-midnight-havana", "30 0 * * *", "America/Havana", "2026-03-07T12:00",
     ["2026-03-08T05:30", "2026-03-09T04:30"]),  # Cuba springs 00:00 -> 01:00: 00:30 is 01:30 CDT
    ("gap-at-midnight-sao-paulo-2018", "0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00",
     ["2018-11-04T03:00", "2018-11-05T02:00"]),  # 00:00 missing: 01:00 -02
    ("gap-lord-howe-30-min", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00",
     ["2026-10-03T15:45", "2026-10-04T15:15"]),  # 02:00 -> 02:30: 02:15 is 02:45 +11
    ("lord-howe-offset-change", "0 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00",
     ["2026-10-03T15:30", "2026-10-04T15:00"]),  # 02:00 is the gap start: 02:30 +11, then 02:00 +11
    # --- DST overlaps: a daily time fires once (the second occurrence); hourly fires in both hours
    ("overlap-daily-fires-once", "30 1 * * *", "America/New_York", "2026-10-31T12:00",
     ["2026-11-01T06:30", "2026-11-02T06:30"]),  # 01:30 happens twice: the EST one only
    ("overlap-hourly-fires-twice", "30 * * * *", "Europe/Zurich", "2026-10-25T00:00",
     ["2026-10-25T00:30", "2026-10-25T01:30", "2026-10-25T02:30"]),  # 02:30 CEST, 02:30 CET, 03:30 CET
    ("overlap-preset-hourly-st-johns", "@hourly", "America/St_Johns", "2026-11-01T03:00",
     ["2026-11-01T03:30", "2026-11-01T04:30", "2026-11-01T05:30"]),  # 01:00 NDT, 01:00 NST, 02:00 NST
    ("overlap-daily-chatham-45-min", "0 3 * * *", "Pacific/Chatham", "2026-04-03T12:00",
     ["2026-04-03T13:15", "2026-04-04T14:15", "2026-04-05T14:15"]),  # +13:45, then 03:00 twice: +12:45 once
    ("overlap-hourly-chatham", "30 * * * *", "Pacific/Chatham", "2026-04-04T12:00",
     ["2026-04-04T12:45", "2026-04-04T13:45", "2026-04-04T14:45", "2026-04-04T15:45"]),  # 03:30 twice
    ("overlap-lord-howe-30-min-daily", "30 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00",
     ["2026-04-04T15:00", "2026-04-05T15:00"]),  # 01:30-02:00 repeats: 01:30 +10:30 once
    ("overlap-lord-howe-30-min-hourly", "0 * * * *", "Australia/Lord_Howe", "2026-04-04T13:30",
     ["2026-04-04T14:00", "2026-04-04T15:00", "2026-04-04T15:30", "2026-04-04T16:30"]),
    # ^ 01:00 +11; "02:00" one wall hour later lands as the clock goes back to 01:30; 02:00 and 03:00 +10:30
    ("overlap-casablanca-ramadan", "30 2 * * *", "Africa/Casablanca", "2026-02-14T12:00",
     ["2026-02-15T02:30", "2026-02-16T02:30"]),  # 03:00 +01 -> 02:00 +00: 02:30 once, at +00
    ("hourly-on-mondays-moves-by-wall-distance", "30 * * * 1", "Europe/Berlin", "2026-03-28T12:00",
     ["2026-03-29T23:30", "2026-03-30T00:30"]),  # Airflow adds the wall distance across the gap: 01:30 CEST
    # --- odd offsets without DST
    ("half-hour-zone", "0 9 * * *", "Asia/Kolkata", "2026-06-01T00:00", ["2026-06-01T03:30", "2026-06-02T03:30"]),
    ("45-minute-zone", "0 9 * * *", "Asia/Kathmandu", "2026-06-01T00:00", ["2026-06-01T03:15", "2026-06-02T03:15"]),
    ("fixed-offset", "0 9 * * *", "+05:30", "2026-06-01T00:00", ["2026-06-01T03:30", "2026-06-02T03:30"]),
    # --- calendars
    ("leap-day", "0 0 29 2 *", "UTC", "2026-01-01T00:00", ["2028-02-29T00:00", "2032-02-29T00:00"]),
    ("last-day-of-month", "0 0 L * *", "UTC", "2028-02-01T00:00", ["2028-02-29T00:00", "2028-03-31T00:00"]),
    ("31st-skips-short-months", "0 12 31 * *", "UTC", "2026-01-31T13:00",
     ["2026-03-31T12:00", "2026-05-31T12:00", "2026-07-31T12:00"]),
    ("weekdays", "0 9 * * 1-5", "UTC", "2026-11-20T10:00", ["2026-11-23T09:00", "2026-11-24T09:00"]),
    # --- presets
    ("preset-daily-fall-back", "@daily", "America/New_York", "2026-11-01T00:00",
     ["2026-11-01T04:00", "2026-11-02T05:00"]),
    ("preset-weekly", "@weekly", "UTC", "2026-11-18T00:00", ["2026-11-22T00:00", "2026-11-29T00:00"]),
    ("preset-monthly-kolkata", "@monthly", "Asia/Kolkata", "2026-01-15T00:00",
     ["2026-01-31T18:30", "2026-02-28T18:30"]),
    ("preset-quarterly", "@quarterly", "UTC", "2026-01-15T00:00", ["2026-04-01T00:00", "2026-07-01T00:00"]),
    ("preset-yearly-chatham", "@yearly", "Pacific/Chatham", "2026-01-15T00:00", ["2026-12-31T10:15"]),
    ("preset-annually", "@annually", "UTC", "2026-01-15T00:00", ["2027-01-01T00:00"]),
]


@pytest.mark.parametrize(("cron", "zone", "after", "expected"), [pytest.param(*t[1:], id=t[0]) for t in TABLE])
def test_fire_times(cron: str, zone: str, after: str, expected: list[str]) -> None:
    got = fire_times(parse(cron, zone), utc(after), len(expected))
    assert got == [utc(e) for e in expected]
    assert all(t.tzinfo is timezone.utc for t in got)


def test_start_and_end_bound_the_schedule() -> None:
    s = parse("0 12 * * *", "UTC", start=utc("2026-05-10T12:00"), end=utc("2026-05-12T12:00"))
    # start on a fire time fires there; a fire time equal to end still fires
    assert fire_times(s, utc("2026-01-01T00:00"), 10) == [utc("2026-05-10T12:00"), utc("2026-05-11T12:00"),
                                                          utc("2026-05-12T12:00")]
    assert next_fire(s, utc("2026-05-12T12:00")) is None


def test_start_between_fire_times_aligns_to_the_next() -> None:
    s = parse("0 12 * * *", "UTC", start=utc("2026-05-10T12:01"))
    assert next_fire(s, utc("2026-01-01T00:00")) == utc("2026-05-11T12:00")


def test_once_fires_at_start_only() -> None:
    s = parse("@once", "UTC", start=utc("2026-05-10T08:00"))
    assert fire_times(s, utc("2026-01-01T00:00"), 5) == [utc("2026-05-10T08:00")]
    assert next_fire(s, utc("2026-05-10T08:00")) is None
    assert next_fire(parse("@once"), utc("2026-01-01T00:00")) is None  # no start_date: never, as in Airflow


def test_no_schedule_never_fires() -> None:
    assert next_fire(parse(None), utc("2026-01-01T00:00")) is None
    assert next_fire(parse("None"), utc("2026-01-01T00:00")) is None
    assert fire_times(parse(None), utc("2026-01-01T00:00"), 3) == []


@pytest.mark.parametrize(("cron", "zone", "start", "end", "field", "words"), [
    pytest.param("61 * * * *", "UTC", None, None, "cron", "not a valid cron", id="minute-out-of-range"),
    pytest.param("* * * *", "UTC", None, None, "cron", "has 4 fields", id="four-fields"),
    pytest.param("0 0 1 1 * 2026", "UTC", None, None, "cron", "has 6 fields", id="six-fields"),
    pytest.param("@fortnightly", "UTC", None, None, "cron", "unknown preset", id="unknown-preset"),
    pytest.param("0 0 31 2 *", "UTC", None, None, "cron", "never fires", id="31-february"),
    pytest.param("   ", "UTC", None, None, "cron", "empty", id="blank"),
    pytest.param("@daily", "Nowhere/Land", None, None, "timezone", "unknown time zone", id="unknown-zone"),
    pytest.param("@daily", "", None, None, "timezone", "IANA", id="empty-zone"),
    pytest.param("@daily", "+15:00", None, None, "timezone", "out of range", id="offset-out-of-range"),
    pytest.param("@daily", "UTC", datetime(2026, 1, 1), None, "start", "timezone-aware", id="naive-start"),
    pytest.param("@daily", "UTC", utc("2026-02-01T00:00"), utc("2026-01-01T00:00"), "end", "before start",
                 id="end-before-start"),
])
def test_parse_errors_name_the_field(cron: str, zone: str, start: datetime | None, end: datetime | None,
                                     field: str, words: str) -> None:
    with pytest.raises(ScheduleError) as e:
        parse(cron, zone, start, end)
    assert e.value.field == field and words in e.value.message


def test_parse_normalises_whitespace_and_keeps_the_zone_name() -> None:
    assert parse("  0   9 * *  1-5 ", " Europe/Paris ") == Schedule("0 9 * * 1-5", "Europe/Paris")


def test_naive_after_is_refused() -> None:
    with pytest.raises(ScheduleError) as e:
        next_fire(parse("@daily"), datetime(2026, 1, 1))
    assert e.value.field == "after"


@pytest.mark.parametrize(("spec", "definition", "start", "expected"), [
    pytest.param("Asia/Tokyo", "Europe/Paris", None, "Asia/Tokyo", id="spec-wins"),
    pytest.param(None, "Europe/Paris", None, "Europe/Paris", id="definition-next"),
    pytest.param("  ", "Europe/Paris", None, "Europe/Paris", id="blank-spec-is-absent"),
    pytest.param(None, None, datetime(2026, 1, 1, tzinfo=ZoneInfo("America/Denver")),
                 "America/Denver", id="start-date-zone"),
    pytest.param(None, None, datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))), "+05:30",
                 id="start-date-fixed-offset"),
    pytest.param(None, None, datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=3))), "-03:00",
                 id="start-date-negative-offset"),
    pytest.param(None, None, utc("2026-01-01T00:00"), "UTC", id="start-date-utc"),
    pytest.param(None, None, datetime(2026, 1, 1), "UTC", id="naive-start-date"),
    pytest.param(None, None, None, "UTC", id="nothing"),
])
def test_resolve_timezone_precedence(spec: str | None, definition: str | None, start: datetime | None,
                                     expected: str) -> None:
    assert resolve_timezone(spec, definition, start) == expected
    parse("@daily", expected)  # and the answer is a zone parse accepts


DUE = [
    # (id, cron, zone, last fired, now, expected next_due) -- Airflow's catchup=False choice
    ("on-time-next-is-future", "*/10 * * * *", "UTC", "2026-01-01T12:30", "2026-01-01T12:34", "2026-01-01T12:40"),
    ("outage-most-recent-only", "*/10 * * * *", "UTC", "2026-01-01T09:00", "2026-01-01T12:34", "2026-01-01T12:30"),
    ("now-on-a-fire-time", "*/10 * * * *", "UTC", "2026-01-01T12:20", "2026-01-01T12:30", "2026-01-01T12:30"),
    ("no-last-run", "0 * * * *", "UTC", None, "2026-01-01T12:34", "2026-01-01T12:00"),
    # 03:10 CEST on the spring-forward day: 02:30 became 03:30 CEST, still owed although next_fire(now)
    # would jump to tomorrow
    ("gap-shifted-fire-still-owed", "30 2 * * *", "Europe/Berlin", "2026-03-28T01:30", "2026-03-29T01:10",
     "2026-03-29T01:30"),
]


@pytest.mark.parametrize(("cron", "zone", "last", "now", "expected"), [pytest.param(*t[1:], id=t[0]) for t in DUE])
def test_next_due(cron: str, zone: str, last: str | None, now: str, expected: str) -> None:
    assert next_due(parse(cron, zone), utc(last) if last else None, utc(now)) == utc(expected)


def test_next_fire_from_inside_the_gap_window_differs_from_next_due() -> None:
    s = parse("30 2 * * *", "Europe/Berlin")
    assert next_fire(s, utc("2026-03-29T01:10")) == utc("2026-03-30T00:30")


def test_next_due_respects_start_and_end() -> None:
    s = parse("0 * * * *", "UTC", start=utc("2026-01-02T00:00"), end=utc("2026-01-03T00:00"))
    assert next_due(s, None, utc("2026-01-01T05:10")) == utc("2026-01-02T00:00")
    assert next_due(s, utc("2026-01-03T00:00"), utc("2026-01-03T00:10")) is None
    assert next_due(parse(None), None, utc("2026-01-01T00:00")) is None


LATE = [
    # (id, cron, last fired, now, deadline minutes, expected)
    ("within-deadline", "*/10 * * * *", "2026-01-01T09:00", "2026-01-01T12:34", 5, "2026-01-01T12:30"),
    ("outside-deadline", "*/10 * * * *", "2026-01-01T09:00", "2026-01-01T12:34", 3, None),
    ("deadline-inclusive", "*/10 * * * *", "2026-01-01T09:00", "2026-01-01T12:34", 4, "2026-01-01T12:30"),
    ("nothing-missed", "*/10 * * * *", "2026-01-01T12:30", "2026-01-01T12:34", 5, None),
    ("exactly-at-fire-time", "*/10 * * * *", "2026-01-01T12:20", "2026-01-01T12:30", 0, "2026-01-01T12:30"),
    ("no-last-run-counts-the-latest", "0 * * * *", None, "2026-01-01T12:01", 5, "2026-01-01T12:00"),
    ("daily-days-down-runs-one", "0 6 * * *", "2026-01-01T06:00", "2026-01-05T06:02", 10, "2026-01-05T06:00"),
]


@pytest.mark.parametrize(("cron", "last", "now", "minutes", "expected"), [pytest.param(*t[1:], id=t[0]) for t in LATE])
def test_latest_missed(cron: str, last: str | None, now: str, minutes: int, expected: str | None) -> None:
    got = latest_missed(parse(cron), utc(last) if last else None, utc(now), timedelta(minutes=minutes))
    assert got == (utc(expected) if expected else None)


def test_latest_missed_never_before_start_or_after_end() -> None:
    s = parse("*/10 * * * *", "UTC", start=utc("2026-01-01T13:00"))
    assert latest_missed(s, None, utc("2026-01-01T12:34"), timedelta(hours=5)) is None
    s = parse("*/10 * * * *", "UTC", end=utc("2026-01-01T12:00"))
    assert latest_missed(s, utc("2026-01-01T11:00"), utc("2026-01-01T12:34"), timedelta(hours=5)) is None


def test_a_huge_deadline_is_fine() -> None:
    s = parse("*/10 * * * *")
    assert latest_missed(s, None, utc("2026-01-01T12:34"), timedelta.max) == utc("2026-01-01T12:30")


NAMES = [
    ("short-name-kept", "nightly-etl", "nightly-etl-s-202603290130"),
    ("dots-hashed", "team.etl", None),
    ("capitals-hashed", "Nightly", None),
]


@pytest.mark.parametrize(("workflow", "expected"), [pytest.param(*t[1:], id=t[0]) for t in NAMES])
def test_run_names(workflow: str, expected: str | None) -> None:
    name = scheduled_run_name(workflow, utc("2026-03-29T01:30"))
    assert len(name) <= 63 and name.endswith("-s-202603290130")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    if expected is not None:
        assert name == expected


def test_run_names_are_deterministic_and_distinct() -> None:
    t = utc("2026-03-29T01:30")
    assert scheduled_run_name("etl", t) == scheduled_run_name("etl", t.astimezone(timezone(timedelta(hours=2))))
    assert scheduled_run_name("etl", t) != scheduled_run_name("etl", t + timedelta(minutes=1))
    long = scheduled_run_name("w" * 200, t)
    assert len(long) == 63 and long != scheduled_run_name("w" * 199 + "x", t)
    assert scheduled_run_name("team.etl", t) != scheduled_run_name("team-etl", t)
    with pytest.raises(ValueError):
        scheduled_run_name("etl", datetime(2026, 1, 1))
