"""The one error the schedule package raises for bad input."""

from __future__ import annotations


class ScheduleError(ValueError):
    """A schedule that cannot be used. `field` names what is wrong (cron, timezone, start, end,
    after) so a CLI can point at its option and an API at its field; `message` says the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
