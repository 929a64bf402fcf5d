"""Typed values inside a definition: durations and instants in the forms dag-factory accepts.

`{__type__: datetime.timedelta, seconds: 300}` and `{__type__: datetime.datetime, year: ...}` are
the only `__type__` objects allowed (dag-factory would import and call any other). Durations may
also be plain numbers of seconds where dag-factory accepts them (retry_delay). Instants may be
YAML timestamps or ISO-8601 strings; naive ones are in the definition's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEDELTA = "datetime.timedelta"
DATETIME = "datetime.datetime"
ALLOWED_TYPES = (TIMEDELTA, DATETIME)
_TIMEDELTA_FIELDS = {"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"}
_DATETIME_FIELDS = {"year", "month", "day", "hour", "minute", "second", "microsecond"}


class ValueProblem(ValueError):
    """A value has the wrong form; `rule` names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def is_typed(value: Any) -> bool:
    return isinstance(value, dict) and "__type__" in value


def check_typed(value: dict[str, Any]) -> None:
    kind = value.get("__type__")
    if kind not in ALLOWED_TYPES:
        raise ValueProblem("type-not-allowed",
                           f"__type__ {kind!r} is not allowed (only {', '.join(ALLOWED_TYPES)})")
    fields = set(value) - {"__type__"}
    allowed = _TIMEDELTA_FIELDS if kind == TIMEDELTA else _DATETIME_FIELDS
    if "__args__" in fields:
        raise ValueProblem("type-arguments", "__args__ is not supported; use named fields")
    unknown = fields - allowed
    if unknown:
        raise ValueProblem("type-arguments", f"unknown field(s) for {kind}: {', '.join(sorted(unknown))}")
    for f in fields:
        if isinstance(value[f], bool) or not isinstance(value[f], (int, float)):
            raise ValueProblem("type-arguments", f"{kind} field {f!r} must be a number")


def typed_problems(document: Any) -> list[tuple[str, str, str]]:
    """(path, rule, message) for every `__type__` object anywhere in a parsed definition that is
    not an allowed one, whether or not the key it sits under is used (an ignored parameter, a
    display-only task-group key): nothing carrying a disallowed `__type__` is accepted, even to be
    dropped. Paths read `dag.tasks.t.arg[0].x`, as the validator's. Iterative (no recursion)."""
    out: list[tuple[str, str, str]] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            if "__type__" in value:
                try:
                    check_typed(value)
                except ValueProblem as p:
                    out.append((path or "definition", p.rule, p.message))
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))
    return out


def to_timedelta(value: Any, *, numbers_allowed: bool = True) -> timedelta:
    if is_typed(value):
        check_typed(value)
        if value["__type__"] != TIMEDELTA:
            raise ValueProblem("duration", "expected a duration (datetime.timedelta)")
        try:
            return timedelta(**{k: v for k, v in value.items() if k != "__type__"})
        except OverflowError:
            raise ValueProblem("duration", "duration out of range") from None
    if numbers_allowed and isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    form = "a number of seconds or " if numbers_allowed else ""
    raise ValueProblem("duration", f"expected {form}{{__type__: datetime.timedelta, seconds: N}}, got {value!r}")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueProblem("timezone", f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def to_datetime(value: Any, tz: ZoneInfo | None) -> datetime:
    """An aware datetime in UTC; naive values are read in `tz` (UTC when None)."""
    local = tz or timezone.utc
    if is_typed(value):
        check_typed(value)
        if value["__type__"] != DATETIME:
            raise ValueProblem("instant", "expected an instant (datetime.datetime)")
        try:
            dt = datetime(**{k: v for k, v in value.items() if k != "__type__"})
        except (TypeError, ValueError) as e:
            raise ValueProblem("instant", f"invalid datetime: {e}") from None
    elif isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueProblem("instant", f"expected an ISO-8601 date or date-time, got {value!r}") from None
    else:
        raise ValueProblem("instant", f"expected a date or date-time, got {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=local)
    return dt.astimezone(timezone.utc)


def encode_timedelta(td: timedelta) -> dict[str, Any]:
    return {"__type__": TIMEDELTA, "seconds": td.total_seconds()}



def materialize(value: Any) -> Any:
    """Replace the (already validated) `__type__` dicts with real timedelta/datetime objects: what
    dag-factory's YAML loader would produce, without ever letting it import anything."""
    if is_typed(value):
        check_typed(value)
        fields = {k: v for k, v in value.items() if k != "__type__"}
        return timedelta(**fields) if value["__type__"] == TIMEDELTA else datetime(**fields)
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value
