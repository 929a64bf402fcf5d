"""One cron step on the wall clock of a time zone, as Airflow 3.0.6 takes it.

This is the arithmetic of Airflow's `CronMixin` (airflow/timetables/_cron.py: `_get_next`,
`_get_prev`, `_align_to_next`, `_align_to_prev`), which `CronTriggerTimetable` uses; written anew
here on the standard library's zoneinfo instead of pendulum. The behaviour mirrored:

- croniter runs on the naive wall time of the zone (the instant converted to the zone, the offset
  dropped);
- a cron that fires at least hourly (croniter's expanded hour field is `*`) moves the *instant*
  by the wall-clock distance croniter found. In a DST overlap the repeated hour therefore fires
  twice (02:30 CEST, then 02:30 CET), and in a gap nothing is doubled;
- any other cron turns croniter's wall time back into an instant the way pendulum's
  `Timezone.convert` does for a naive time with fold=1 (`airflow.utils.timezone.make_aware`):
  an ambiguous time (overlap) is its *second* occurrence, so a daily 01:30 fires once, after
  the clocks went back; a time that does not exist (gap) moves forward by the gap (02:30 on a
  spring-forward night is 03:30 summer time; 02:15 on Lord Howe's 30-minute shift is 02:45).

All instants returned are aware and in UTC. Fixed-offset zones (datetime.timezone) work too:
they have neither gaps nor overlaps.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache

from croniter import croniter
from croniter.croniter import CroniterError

UTC = timezone.utc


class NeverFires(ValueError):
    """croniter found no matching time (e.g. `0 0 31 2 *`)."""


@lru_cache(maxsize=1024)
def covers_every_hour(cron: str) -> bool:
    """Airflow's test for the "fold hour" workaround: the hour field expands to `*`."""
    return bool(croniter(cron).expanded[1] == ["*"])


def wall(instant: datetime, tz: tzinfo) -> datetime:
    """The naive wall-clock reading of `instant` in `tz` (fold cleared, as Airflow's make_naive)."""
    # via UTC: astimezone() to the instant's own tzinfo would return it unchanged, gap or not
    return instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None, fold=0)


def localize(wall_time: datetime, tz: tzinfo) -> datetime:
    """A naive wall time in `tz` as a UTC instant: second occurrence when ambiguous, moved forward
    by the gap when it does not exist (pendulum's convert of a fold=1 naive time)."""
    first = wall_time.replace(tzinfo=tz, fold=0)
    if wall(first, tz) != wall_time:
        # Does not exist. fold=0 reads it with the offset from before the gap, which lands exactly
        # gap-length later on the wall clock: 02:30 CET == 01:30Z == 03:30 CEST.
        return first.astimezone(UTC)
    return wall_time.replace(tzinfo=tz, fold=1).astimezone(UTC)


def _step(cron: str, tz: tzinfo, current: datetime, forward: bool) -> datetime:
    naive = wall(current, tz)
    try:
        it = croniter(cron, start_time=naive)
        scheduled = it.get_next(datetime) if forward else it.get_prev(datetime)
    except CroniterError as e:
        raise NeverFires(f"{cron!r} never fires ({e})") from None
    if not covers_every_hour(cron):
        return localize(scheduled, tz)
    # pendulum adds a plain timedelta as absolute seconds: move the instant, not the wall time
    return current.astimezone(UTC) + (scheduled - naive)  # type: ignore[no-any-return]  # croniter is untyped


def get_next(cron: str, tz: tzinfo, current: datetime) -> datetime:
    """The first cron time strictly after `current` (Airflow's `_get_next`)."""
    return _step(cron, tz, current, forward=True)


def get_prev(cron: str, tz: tzinfo, current: datetime) -> datetime:
    """The last cron time strictly before `current` (Airflow's `_get_prev`)."""
    return _step(cron, tz, current, forward=False)


def align_to_next(cron: str, tz: tzinfo, current: datetime) -> datetime:
    """`current` itself when it is a cron time, else the next one (Airflow's `_align_to_next`)."""
    nxt = get_next(cron, tz, current)
    return current.astimezone(UTC) if get_prev(cron, tz, nxt) == current else nxt


def align_to_prev(cron: str, tz: tzinfo, current: datetime) -> datetime:
    """`current` itself when it is a cron time, else the previous one (Airflow's `_align_to_prev`)."""
    prev = get_prev(cron, tz, current)
    return current.astimezone(UTC) if get_next(cron, tz, prev) == current else prev


def first_fire(cron: str, reference: datetime = datetime(2000, 1, 1, tzinfo=UTC)) -> datetime:
    """Any one fire time (used to refuse crons that never fire); raises NeverFires."""
    return get_next(cron, UTC, reference)


__all__ = ["NeverFires", "align_to_next", "align_to_prev", "covers_every_hour", "first_fire", "get_next",
           "get_prev", "localize", "wall"]
