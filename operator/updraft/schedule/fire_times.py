"""Fire times of a cron schedule in a time zone, with Airflow 3.0.6's CronTriggerTimetable semantics.

Pure: every function takes the instant it works from; nothing reads the clock. Returned instants
are aware and in UTC.

What is mirrored (airflow/timetables/trigger.py `_TriggerTimetable.next_dagrun_info`, and the
wall-clock arithmetic of airflow/timetables/_cron.py, see `updraft.schedule.wallclock`):

- `next_fire(s, after)` is the timetable's next run after a run at `after`: `_get_next(after)`,
  the first cron time strictly after it. `fire_times` chains it, as the scheduler chains
  `last_automated_data_interval.end`.
- start_date bounds the schedule as `TimeRestriction.earliest` does: the first fire is
  `_align_to_next(start)`, i.e. start itself when start is a fire time, else the next one.
- end_date bounds it as `TimeRestriction.latest`: a fire time equal to end_date still fires,
  nothing after it does.
- `@once` is Airflow's OnceTimetable: one run at start_date, none without a start_date.
  None (no schedule) never fires, like NullTimetable.
- `next_due(s, last, now)` is `next_dagrun_info` with catchup=False (the guide ignores catchup):
  the latest of the most recent fire time at or before `now` (`_align_to_prev(now)`), the fire
  after the last run, and the first at or after start_date. `latest_missed` keeps that choice
  only when it is not in the future and within the starting deadline: after an outage at most
  one run, the most recent.

Presets are Airflow's (`airflow.utils.dates.cron_presets`) plus `@annually`, which croniter and
so Airflow accept as `@yearly`. tests/differential/test_schedule_vs_airflow.py checks all of
this against Airflow itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from croniter import croniter

from updraft.schedule import wallclock
from updraft.schedule.errors import ScheduleError
from updraft.schedule.zones import zone

UTC = timezone.utc
PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
ONCE = "@once"

__all__ = ["ONCE", "PRESETS", "Schedule", "ScheduleError", "fire_times", "latest_missed", "next_due", "next_fire",
           "parse"]


@dataclass(frozen=True)
class Schedule:
    """A checked schedule; build it with `parse`, which refuses what could not fire."""

    expression: str | None  # 5-field cron, a preset, "@once", or None (no schedule)
    timezone: str = "UTC"  # IANA name, or a fixed offset such as +05:30
    start: datetime | None = None  # aware; the first fire is at or after it
    end: datetime | None = None  # aware; nothing fires after it

    @property
    def cron(self) -> str | None:
        """The 5-field cron it runs (presets expanded); None for @once and no schedule."""
        if self.expression is None or self.expression == ONCE:
            return None
        return PRESETS.get(self.expression, self.expression)

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)


def check_cron(expression: str) -> None:
    """A 5-field cron that fires at least once, else ScheduleError(field="cron") saying why. The one
    cron check: the validator, the scheduler and the CLI all call it."""
    if expression.startswith("@"):
        raise ScheduleError("cron", f"unknown preset {expression!r} (use one of {', '.join([ONCE, *PRESETS])})")
    fields = expression.split(" ")
    if len(fields) != 5:
        raise ScheduleError("cron", f"{expression!r} has {len(fields)} fields; a cron has 5 "
                                    "(minute hour day-of-month month day-of-week)")
    try:
        croniter(expression)
    except Exception as e:  # croniter raises several types, all meaning "not a cron"
        raise ScheduleError("cron", f"{expression!r} is not a valid cron expression ({e})") from None
    try:
        wallclock.first_fire(expression)
    except wallclock.NeverFires:
        raise ScheduleError("cron", f"{expression!r} never fires (no date matches it)") from None


def parse(expression: str | None, tz: str = "UTC", start: datetime | None = None,
          end: datetime | None = None) -> Schedule:
    """A checked Schedule, or ScheduleError naming the field (cron, timezone, start, end).

    `expression` may be a 5-field cron, a preset, `@once`, or None / "None" for no schedule."""
    if expression is not None:
        if not isinstance(expression, str):
            raise ScheduleError("cron", f"must be a string, got {type(expression).__name__}")
        expression = " ".join(expression.split())
        if not expression:
            raise ScheduleError("cron", "is empty (use a 5-field cron, a preset such as @daily, or None)")
        if expression == "None":
            expression = None
    if expression is not None and expression != ONCE and expression not in PRESETS:
        check_cron(expression)
    zone(tz)
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None
                                  or value.utcoffset() is None):
            raise ScheduleError(name, "must be a timezone-aware date-time")
    if start is not None and end is not None and end < start:
        raise ScheduleError("end", f"{end.isoformat()} is before start {start.isoformat()}")
    return Schedule(expression, tz.strip(), start, end)


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(name, "must be a timezone-aware date-time")
    return value


def _step(fn: object, schedule: Schedule, instant: datetime) -> datetime:
    cron = schedule.cron
    assert cron is not None
    try:
        return fn(cron, schedule.tz, instant)  # type: ignore[operator, no-any-return]
    except wallclock.NeverFires as e:
        raise ScheduleError("cron", str(e)) from None


def _within_end(schedule: Schedule, t: datetime | None) -> datetime | None:
    if t is None or (schedule.end is not None and t > schedule.end):
        return None
    return t.astimezone(UTC)


def next_fire(schedule: Schedule, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`, or None when there is none (no schedule,
    @once already past, or past end_date)."""
    _aware(after, "after")
    if schedule.expression is None:
        return None
    if schedule.expression == ONCE:
        start = schedule.start
        return _within_end(schedule, start) if start is not None and start > after else None
    candidate = _step(wallclock.get_next, schedule, after)
    if schedule.start is not None and schedule.start > after:
        candidate = max(candidate, _step(wallclock.align_to_next, schedule, schedule.start))
    return _within_end(schedule, candidate)


def fire_times(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after` (fewer when the schedule ends)."""
    if count < 0:
        raise ScheduleError("count", f"must be 0 or more, got {count}")
    out: list[datetime] = []
    current = after
    while len(out) < count:
        nxt = next_fire(schedule, current)
        if nxt is None:
            break
        out.append(nxt)
        current = nxt
    return out


def next_due(schedule: Schedule, last_fired: datetime | None, now: datetime) -> datetime | None:
    """The fire time the scheduler owes next, as Airflow picks it with catchup=False: the most
    recent fire time at or before `now` unless a run at or after it is known (`last_fired`),
    else the one after `last_fired`; never before start_date; None past end_date.

    At or before `now` means it is due now (see `latest_missed` for the deadline); after `now` it
    is when to wake. Prefer this to `next_fire(now)` for the wake time: around a DST gap a fire
    time shifted forward (02:30 -> 03:30) lies after `now` yet before `next_fire(now)`."""
    _aware(now, "now")
    if last_fired is not None:
        _aware(last_fired, "last_fired")
    if schedule.expression is None:
        return None
    if schedule.expression == ONCE:
        start = schedule.start
        if start is None or (last_fired is not None and start <= last_fired):
            return None
        return _within_end(schedule, start)
    candidates = [_step(wallclock.align_to_prev, schedule, now)]
    if last_fired is not None:
        candidates.append(_step(wallclock.get_next, schedule, last_fired))
    if schedule.start is not None:
        candidates.append(_step(wallclock.align_to_next, schedule, schedule.start))
    return _within_end(schedule, max(candidates))


def latest_missed(schedule: Schedule, last_fired: datetime | None, now: datetime,
                  starting_deadline: timedelta) -> datetime | None:
    """After downtime: the most recent fire time in (last_fired, now], if it is no older than
    `starting_deadline`; earlier missed times are never run (no catchup). None when nothing is
    owed. `last_fired` None means no run is known, so the most recent fire time counts."""
    due = next_due(schedule, last_fired, now)
    if due is None or due > now or (last_fired is not None and due <= last_fired):
        return None
    return due if now - due <= starting_deadline else None
