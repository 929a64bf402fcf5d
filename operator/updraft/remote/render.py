"""Text for people and JSON for machines (pure): tables, instants, ages and durations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

EMPTY = "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns two spaces apart, as kubectl prints them; None is shown as '-'."""
    cells = [[EMPTY if v is None or v == "" else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [list(headers), *cells]]
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """`Label:  value` lines, values aligned; pairs whose value is None or empty are left out."""
    shown = [(k, str(v)) for k, v in pairs if v is not None and v != "" and v != []]
    width = max((len(k) for k, _ in shown), default=0) + 1
    return "\n".join(f"{(k + ':').ljust(width)}  {v}" for k, v in shown)


def utc(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%H:%M:%SZ")


def duration(seconds: float | int | None) -> str | None:
    """`45s`, `3m05s`, `2h04m`, `3d05h`: two units at most, as kubectl's ages."""
    if seconds is None:
        return None
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def age(t: datetime | None, now: datetime) -> str | None:
    """How long before `now` the instant was (`0s` for one in the future: clocks differ)."""
    if t is None:
        return None
    return duration((now - t).total_seconds())


def first_line(text: str | None, limit: int = 80) -> str | None:
    if not text:
        return None
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def plain(value: Any) -> Any:
    """The API's answer as JSON-ready data: instants as ISO-8601 UTC, ResponseMetadata dropped."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return utc(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_json(value: Any) -> str:
    return json.dumps(plain(value), indent=2, sort_keys=False, ensure_ascii=False)


def json_line(value: Any) -> str:
    return json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False)
