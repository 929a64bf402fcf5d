"""What `updraft ui` prints for a CreateAirflowUiUrl answer (pure; `now` is a parameter)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from updraft.remote.render import duration, utc

MIN_URL_SECONDS, MAX_URL_SECONDS = 5, 300  # the model's ExpiresInSeconds
MIN_SESSION_SECONDS, MAX_SESSION_SECONDS = 1, 43200  # the model's SessionDurationInSeconds


def range_problem(value: int | None, low: int, high: int, option: str) -> str | None:
    if value is None or low <= value <= high:
        return None
    return f"{option} must be from {low} to {high} seconds, got {value}"


def launch_text(answer: Mapping[str, Any], now: datetime) -> str:
    """The URL on its own line (easy to copy, or to pipe), then when it and the session end."""
    url_left = (answer["UrlExpiresAt"] - now).total_seconds() if isinstance(answer.get("UrlExpiresAt"), datetime) else None
    lines = [str(answer["AuthorizedUrl"]), ""]
    if url_left is not None:
        lines.append(f"Open it within {duration(max(0, url_left))} (it works once, from one network address);")
    if isinstance(answer.get("SessionExpiresAt"), datetime):
        lines.append(f"the console session then lasts until {utc(answer['SessionExpiresAt'])}.")
    return "\n".join(lines)
