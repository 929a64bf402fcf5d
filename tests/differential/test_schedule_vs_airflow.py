"""Differential: Updraft's fire times equal Airflow 3's CronTriggerTimetable for the same cron and
time zone — a generated set of crons x zones x instants around every DST transition of 2024-2026
(gaps, overlaps, half-hour and 45-minute zones, Lord Howe's 30-minute shift) and leap days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from updraft.schedule import fire_times, parse

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(300)]

CRONS = [
    "* * * * *", "*/15 * * * *", "30 * * * *", "0 * * * *", "45 */2 * * *", "0 0 * * *", "30 1 * * *",
    "30 2 * * *", "0 3 * * *", "15 2,3 * * *", "0 9 * * 1-5", "30 6 * * 1-5", "0 0 1 * *", "0 12 31 * *",
    "0 0 29 2 *", "0 2 * * 0", "59 23 * * *", "0 0 1 */3 *", "5 4 * * sun", "0 0,12 * * *",
    "@hourly", "@daily", "@weekly", "@monthly", "@yearly",
]
ZONES = [
    "UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
    "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/Sao_Paulo", "America/Santiago",
    "Africa/Casablanca", "Asia/Tehran",
]
COUNT = 6


def _transitions(zone: str) -> list[datetime]:
    tz, out = ZoneInfo(zone), []
    t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    end = datetime(2027, 1, 1, tzinfo=timezone.utc)
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        t2 = t + timedelta(hours=6)
        off = t2.astimezone(tz).utcoffset()
        if off != prev:
            lo = t
            while t2 - lo > timedelta(minutes=1):  # narrow to the minute
                mid = lo + (t2 - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    t2 = mid
            out.append(t2)
            prev = off
        t = t2
    return out


def _starts(zone: str) -> list[datetime]:
    starts = [datetime(2024, 2, 27, 12, tzinfo=timezone.utc), datetime(2028, 2, 28, 6, tzinfo=timezone.utc)]
    for tr in _transitions(zone):
        starts += [tr - timedelta(hours=3), tr - timedelta(minutes=30), tr + timedelta(minutes=5)]
    return starts


def _airflow_fires(cron: str, zone: str, after: datetime, count: int) -> list[datetime]:
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    tt = CronTriggerTimetable(cron, timezone=zone)
    import pendulum

    restriction = TimeRestriction(earliest=pendulum.instance(after + timedelta(seconds=1)), latest=None, catchup=True)
    out, last = [], None
    for _ in range(count):
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        out.append(datetime.fromtimestamp(info.logical_date.timestamp(), timezone.utc))
        last = info.data_interval
    return out


CASES = [(c, z) for z in ZONES for c in CRONS]


@pytest.mark.parametrize(("cron", "zone"), CASES, ids=[f"{z}|{c}" for c, z in CASES])
def test_same_fire_times_as_airflow(cron: str, zone: str) -> None:
    schedule = parse(cron, zone)
    for after in _starts(zone):
        ours = fire_times(schedule, after, COUNT)
        theirs = _airflow_fires(cron, zone, after, COUNT)
        assert ours == theirs, f"after {after.isoformat()}"


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Australia/Lord_Howe", "America/New_York"])
def test_start_and_end_bound_the_schedule_like_airflow(zone: str) -> None:
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable
    import pendulum

    start = datetime(2026, 3, 1, 10, 17, tzinfo=timezone.utc)
    end = datetime(2026, 3, 6, 0, 0, tzinfo=timezone.utc)
    schedule = parse("0 9 * * *", zone, start=start, end=end)
    ours = fire_times(schedule, datetime(2026, 1, 1, tzinfo=timezone.utc), 30)
    tt = CronTriggerTimetable("0 9 * * *", timezone=zone)
    theirs, last = [], None
    while True:
        info = tt.next_dagrun_info(last_automated_data_interval=last,
                                   restriction=TimeRestriction(earliest=pendulum.instance(start),
                                                               latest=pendulum.instance(end), catchup=True))
        if info is None:
            break
        theirs.append(datetime.fromtimestamp(info.logical_date.timestamp(), timezone.utc))
        last = info.data_interval
    assert ours == theirs
    assert 4 <= len(ours) <= 5
