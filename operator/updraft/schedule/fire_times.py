"""Fire times of a cron schedule in a time zone, with Airflow 3's CronTriggerTimetable semantics.

Pure: every function takes the instant it works from. Returned instants are aware, in UTC.

Airflow behaviour mirrored here (airflow/timetables/_cron.py, CronMixin._get_next, Airflow 3.0.6):
- the cron is evaluated on the wall clock of the time zone (croniter on the naive local time);
- a schedule that fires at least hourly (hour field `*`) advances by the wall-clock distance
  from the current instant, so during a DST overlap the repeated hour fires twice and in a gap
  nothing is skipped or doubled;
- any other schedule localises the wall-clock result: an ambiguous time (DST overlap) resolves to
  its second occurrence, so a daily time fires once; a time that does not exist (DST gap) is moved
  forward by the gap (02:30 on a spring-forward night fires at 03:30), as pendulum does;
- start_date: the first fire is the first cron time at or after it (`_align_to_next`);
  end_date: no fire after it. `@once` fires once, at start_date.
This is checked against Airflow itself by tests/differential/test_schedule_vs_airflow.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

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


class ScheduleError(ValueError):
    """A schedule that cannot be used; `field` names what is wrong (cron, timezone, dates)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Schedule:
    expression: str | None  # 5-field cron, a preset, "@once", or None (no schedule)
    timezone: str = "UTC"
    start: datetime | None = None  # aware
    end: datetime | None = None

    @property
    def cron(self) -> str | None:
        if self.expression is None or self.expression == ONCE:
            return None
        return PRESETS.get(self.expression, self.expression)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse(expression: str | None, tz: str = "UTC", start: datetime | None = None,
          end: datetime | None = None) -> Schedule:
    """A checked Schedule, or ScheduleError naming the field."""
    if expression is not None:
        expression = " ".join(expression.split())
        if expression.lower() == "none":
            expression = None
    if expression is not None and expression != ONCE and expression not in PRESETS:
        if expression.startswith("@"):
            raise ScheduleError("cron", f"unknown preset {expression!r} (use {', '.join([ONCE, *PRESETS])})")
        if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
            raise ScheduleError("cron", f"{expression!r} is not a valid 5-field cron expression")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("timezone", f"unknown time zone {tz!r} (use an IANA name such as Europe/Paris)") from None
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ScheduleError(name, "must be timezone-aware")
    if start and end and end < start:
        raise ScheduleError("end", "must not be before start")
    return Schedule(expression, tz, start, end)


def _local_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time as an instant: second occurrence when ambiguous, shifted forward in a gap."""
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return first.astimezone(UTC)  # in a gap: the pre-transition offset lands after the gap
    return wall.replace(tzinfo=tz, fold=1).astimezone(UTC)


def _every_hour(cron: str) -> bool:
    return croniter(cron).expanded[1] == ["*"]


def _next(cron: str, tz: ZoneInfo, current: datetime) -> datetime:
    wall = _local_wall(current, tz)
    try:
        scheduled = croniter(cron, start_time=wall).get_next(datetime)
    except CroniterError as e:  # e.g. 0 0 31 2 *: no such day
        raise ScheduleError("cron", f"{cron!r} never fires ({e})") from None
    if not _every_hour(cron):
        return _localize(scheduled, tz)
    return (current.astimezone(UTC) + (scheduled - wall)).astimezone(UTC)


def _prev(cron: str, tz: ZoneInfo, current: datetime) -> datetime:
    wall = _local_wall(current, tz)
    scheduled = croniter(cron, start_time=wall).get_prev(datetime)
    if not _every_hour(cron):
        return _localize(scheduled, tz)
    return (current.astimezone(UTC) - (wall - scheduled)).astimezone(UTC)


def _align_to_next(cron: str, tz: ZoneInfo, current: datetime) -> datetime:
    nxt = _next(cron, tz, current)
    return current.astimezone(UTC) if _prev(cron, tz, nxt) == current else nxt


def next_fire(schedule: Schedule, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`, or None when there is none."""
    if after.tzinfo is None:
        raise ScheduleError("after", "must be timezone-aware")
    if schedule.expression is None:
        return None
    if schedule.expression == ONCE:
        start = schedule.start
        return start.astimezone(UTC) if start is not None and start > after else None
    cron, tz = schedule.cron, schedule.tz
    assert cron is not None
    candidate = _next(cron, tz, after)
    if schedule.start is not None and schedule.start > after:
        candidate = max(candidate, _align_to_next(cron, tz, schedule.start))
    if schedule.end is not None and candidate > schedule.end:
        return None
    return candidate


def fire_times(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    current = after
    while len(out) < count:
        nxt = next_fire(schedule, current)
        if nxt is None:
            break
        out.append(nxt)
        current = nxt
    return out


def latest_missed(schedule: Schedule, last_fired: datetime | None, now: datetime,
                  starting_deadline: timedelta) -> datetime | None:
    """After downtime: the most recent fire time in (last_fired, now], if it is no older than
    `starting_deadline`; earlier missed times are never run (no catchup)."""
    floor = max(last_fired or now - starting_deadline, now - starting_deadline)
    latest = None
    current = floor
    # walk forward from the deadline window; bounded by the window, not by history
    while (nxt := next_fire(schedule, current)) is not None and nxt <= now:
        latest, current = nxt, nxt
    if latest is not None and last_fired is not None and latest <= last_fired:
        return None
    return latest
