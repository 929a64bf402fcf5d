"""Time zones of schedules: IANA names (zoneinfo) or fixed UTC offsets, and which one applies.

Fixed offsets (`+05:30`, `-03:00`) exist because Airflow takes a DAG's zone from its start_date
when no zone is given, and a start_date written with an offset gives a fixed zone (pendulum's
FixedTimezone), not a named one. Such a zone has no DST: the cron runs at the same UTC instants
all year.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from updraft.schedule.errors import ScheduleError

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$")


@lru_cache(maxsize=512)
def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name or a `±HH:MM` offset; ScheduleError(field="timezone") otherwise."""
    text = name.strip() if isinstance(name, str) else name
    if not isinstance(text, str) or not text:
        raise ScheduleError("timezone", "must be an IANA time zone name such as Europe/Paris")
    if text.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    m = _OFFSET.match(text)
    if m:
        sign, hours, minutes = m.groups()
        if int(hours) > 14 or int(minutes) > 59:
            raise ScheduleError("timezone", f"offset {text!r} is out of range (-14:00 to +14:00)")
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta) if delta else timezone.utc
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError("timezone", f"unknown time zone {text!r} (use an IANA name such as Europe/Paris "
                                        "or an offset such as +05:30)") from None


def offset_name(offset: timedelta) -> str:
    """`+05:30` for a fixed offset; `UTC` for zero."""
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_of(value: datetime) -> str | None:
    """The zone a datetime was written in: its IANA key, a fixed offset, or None when naive."""
    tz = value.tzinfo
    if tz is None:
        return None
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo / pendulum, pytz
    if isinstance(key, str) and key:
        return key
    offset = value.utcoffset()
    return None if offset is None else offset_name(offset)


def resolve_timezone(spec_timezone: str | None, definition_timezone: str | None,
                     start_date: datetime | None = None) -> str:
    """Which zone a workflow's cron runs in: the Workflow's `spec.timezone`, else the definition's
    `timezone`, else the zone its start_date was written in (as Airflow does), else UTC.

    Blank strings count as absent. The name is not checked here; `parse` checks it."""
    for candidate in (spec_timezone, definition_timezone):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    if start_date is not None:
        found = zone_of(start_date)
        if found:
            return found
    return "UTC"
