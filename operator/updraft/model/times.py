"""The one timestamp format of Updraft's objects (RFC 3339 in UTC, whole seconds, `Z`) (pure)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_ts(value: Any) -> datetime | None:
    """An aware UTC datetime from an object's timestamp (`...Z` or any ISO 8601 offset); None for
    an empty value. A naive value is taken as UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_ts(value: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` in UTC; None for None. Naive datetimes are refused: they have no zone."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(timezone.utc).strftime(FORMAT)
