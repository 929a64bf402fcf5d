"""Differential: Updraft's fire times equal Airflow 3.0.6's CronTriggerTimetable for the same cron
and time zone.

Generated set: crons x zones x instants around every UTC-offset transition of each zone in
2024-2026 (DST gaps and overlaps, half-hour and 45-minute zones, Lord Howe's 30-minute shift,
midnight transitions, Casablanca's Ramadan switch, Dublin's negative DST) plus leap days.

How Airflow is driven (airflow/timetables/trigger.py, `_TriggerTimetable.next_dagrun_info`):
- "the next N fire times strictly after t": chain `last_automated_data_interval`, starting from a
  zero-length interval ending at t, with catchup=True (its `_get_next(last.end)`);
- start_date/end_date: `TimeRestriction(earliest=start, latest=end)` with no previous run, then
  the same chain;
- the no-catchup choice after downtime (`next_due`): catchup=False with Airflow's clock pinned to
  `now` (it reads `utcnow()`), and a previous run at `last`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest

from updraft.schedule import fire_times, next_due, next_fire, parse

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(300)]

UTC = timezone.utc
CRONS = [
    "* * * * *", "*/15 * * * *", "30 * * * *", "0 * * * *", "45 */2 * * *", "30 * * * 1", "*/20 2 * * *",
    "0 0 * * *", "30 0 * * *", "30 1 * * *", "30 2 * * *", "0 3 * * *", "15 2,3 * * *", "0 9 * * 1-5",
    "30 6 * * 1-5", "0 0 1 * *", "0 12 31 * *", "0 0 L * *", "0 0 29 2 *", "0 2 * * 0", "59 23 * * *",
    "0 0 1 */3 *", "5 4 * * sun", "0 0,12 * * *", "0 2 * 3,4,9,10 0",
    "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually",
]
ZONES = [
    "UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Europe/Dublin", "Australia/Sydney",
    "Australia/Adelaide", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham",
    "America/Sao_Paulo", "America/Santiago", "America/Havana", "America/St_Johns", "Africa/Casablanca",
]
COUNT = 5


@lru_cache(maxsize=None)
def _transitions(zone: str) -> tuple[datetime, ...]:
    """Every instant in 2024-2026 at which the zone's UTC offset changes (to the minute)."""
    tz, out = ZoneInfo(zone), []
    t, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        t2 = t + timedelta(hours=6)
        off = t2.astimezone(tz).utcoffset()
        if off != prev:
            lo = t
            while t2 - lo > timedelta(minutes=1):
                mid = (lo + (t2 - lo) / 2).replace(second=0, microsecond=0)
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    t2 = mid
            out.append(t2)
            prev = off
        t = t2
    return tuple(out)


def _starts(zone: str) -> list[datetime]:
    starts = [datetime(2024, 2, 27, 12, tzinfo=UTC), datetime(2028, 2, 28, 6, 0, 17, tzinfo=UTC)]
    for tr in _transitions(zone):
        starts += [tr - timedelta(hours=3), tr - timedelta(minutes=30), tr + timedelta(minutes=5, seconds=17)]
    return starts


def test_the_generated_set_really_covers_transitions() -> None:
    """Guard against a silent empty sweep: the zones with DST have two transitions a year."""
    assert len(_transitions("Europe/Berlin")) == 6 and len(_transitions("Australia/Lord_Howe")) == 6
    assert _transitions("UTC") == () and _transitions("Asia/Kolkata") == ()
    assert len(CRONS) >= 20 and len(ZONES) >= 12


@lru_cache(maxsize=None)
def _timetable(cron: str, zone: str):  # type: ignore[no-untyped-def]
    from airflow.timetables.trigger import CronTriggerTimetable

    return CronTriggerTimetable(cron, timezone=zone)


def _utc(value) -> datetime:  # type: ignore[no-untyped-def]
    return datetime.fromtimestamp(value.timestamp(), UTC)


def _airflow_chain(timetable, last, earliest, latest, count: int) -> list[datetime]:  # type: ignore[no-untyped-def]
    import pendulum
    from airflow.timetables.base import DataInterval, TimeRestriction

    restriction = TimeRestriction(earliest=earliest and pendulum.instance(earliest),
                                  latest=latest and pendulum.instance(latest), catchup=True)
    interval = DataInterval.exact(pendulum.instance(last)) if last is not None else None
    out: list[datetime] = []
    while len(out) < count:
        info = timetable.next_dagrun_info(last_automated_data_interval=interval, restriction=restriction)
        if info is None:
            break
        out.append(_utc(info.logical_date))
        interval = info.data_interval
    return out


CASES = [(c, z) for z in ZONES for c in CRONS]


@pytest.mark.parametrize(("cron", "zone"), CASES, ids=[f"{z}|{c}" for c, z in CASES])
def test_next_fire_times_equal_airflow(cron: str, zone: str) -> None:
    schedule, timetable = parse(cron, zone), _timetable(cron, zone)
    for after in _starts(zone):
        ours = fire_times(schedule, after, COUNT)
        theirs = _airflow_chain(timetable, after, None, None, COUNT)
        assert ours == theirs, f"after {after.isoformat()}"


BOUND_CRONS = ["*/15 * * * *", "30 * * * *", "0 9 * * *", "30 2 * * *", "30 1 * * *", "0 0 * * 0", "@daily"]
BOUND_ZONES = ["Europe/Berlin", "Australia/Lord_Howe", "America/New_York", "Pacific/Chatham", "Asia/Kathmandu"]
BOUND_CASES = [(c, z) for z in BOUND_ZONES for c in BOUND_CRONS]


@pytest.mark.parametrize(("cron", "zone"), BOUND_CASES, ids=[f"{z}|{c}" for c, z in BOUND_CASES])
def test_start_and_end_bound_the_schedule_like_airflow(cron: str, zone: str) -> None:
    """start_date = TimeRestriction.earliest (on a fire time it fires there), end_date = latest."""
    timetable, rng = _timetable(cron, zone), random.Random(f"{cron}|{zone}")
    for tr in _transitions(zone)[:4]:
        for start in (tr - timedelta(minutes=rng.randrange(0, 240)), tr.replace(minute=0) - timedelta(hours=1),
                      tr + timedelta(minutes=30)):
            end = start + timedelta(hours=rng.choice([2, 7, 30, 200]))
            ours = fire_times(parse(cron, zone, start=start, end=end), start - timedelta(days=3), 40)
            theirs = _airflow_chain(timetable, None, start, end, 40)
            assert ours == theirs, f"start {start.isoformat()} end {end.isoformat()}"


NO_CATCHUP_CRONS = ["*/15 * * * *", "30 * * * *", "30 2 * * *", "30 1 * * *", "0 0 * * *", "0 9 * * 1-5",
                    "0 2 * * 0", "@hourly"]
NO_CATCHUP_ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana", "UTC"]
NO_CATCHUP_CASES = [(c, z) for z in NO_CATCHUP_ZONES for c in NO_CATCHUP_CRONS]


@pytest.mark.parametrize(("cron", "zone"), NO_CATCHUP_CASES, ids=[f"{z}|{c}" for c, z in NO_CATCHUP_CASES])
def test_next_due_is_airflows_no_catchup_choice(cron: str, zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import pendulum
    from airflow.timetables import trigger
    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable, schedule, rng = _timetable(cron, zone), parse(cron, zone), random.Random(f"{cron}|{zone}")
    earliest = pendulum.datetime(2000, 1, 1)  # a start_date long past: Airflow then never uses _calc_first_run
    for tr in _transitions(zone)[:4] or (datetime(2026, 3, 29, 1, tzinfo=UTC),):
        for _ in range(6):
            now = tr + timedelta(minutes=rng.randrange(-180, 180), seconds=rng.choice([0, 0, 29]))
            prev = next_fire(schedule, now - timedelta(hours=rng.choice([1, 5, 30, 80])))
            for last in (None, prev, tr - timedelta(minutes=rng.randrange(0, 90))):
                monkeypatch.setattr(trigger, "utcnow", lambda now=now: pendulum.instance(now))
                info = timetable.next_dagrun_info(
                    last_automated_data_interval=DataInterval.exact(pendulum.instance(last)) if last else None,
                    restriction=TimeRestriction(earliest=earliest, latest=None, catchup=False))
                assert info is not None
                assert next_due(schedule, last, now) == _utc(info.logical_date), f"now {now} last {last}"


@pytest.mark.parametrize("start", [datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)])
def test_once_is_airflows_once_timetable(start: datetime) -> None:
    import pendulum
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.simple import OnceTimetable

    info = OnceTimetable().next_dagrun_info(last_automated_data_interval=None,
                                            restriction=TimeRestriction(earliest=pendulum.instance(start), latest=None,
                                                                        catchup=True))
    assert info is not None
    schedule = parse("@once", "Europe/Berlin", start=start)
    assert fire_times(schedule, start - timedelta(days=1), 3) == [_utc(info.logical_date)]
    assert next_due(schedule, None, start + timedelta(days=9)) == _utc(info.logical_date)
    assert next_due(schedule, start, start + timedelta(days=9)) is None  # Airflow: a run exists, no more


@pytest.mark.parametrize(("offset", "seconds"), [("+05:30", 19800), ("-03:30", -12600), ("+12:45", 45900)])
@pytest.mark.parametrize("cron", ["0 * * * *", "30 2 * * *", "0 0 29 2 *"])
def test_fixed_offset_zones_equal_airflows_fixed_timezone(offset: str, seconds: int, cron: str) -> None:
    """A start_date written with an offset gives Airflow a pendulum FixedTimezone; "+05:30" is ours."""
    import pendulum
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable(cron, timezone=pendulum.FixedTimezone(seconds))
    for after in (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), datetime(2027, 12, 31, 12, tzinfo=UTC)):
        assert fire_times(parse(cron, offset), after, COUNT) == _airflow_chain(timetable, after, None, None, COUNT)
