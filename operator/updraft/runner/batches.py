"""CloudWatch Logs' PutLogEvents rules, applied to a task's log lines (pure: no I/O, no clock).

One request carries at most MAX_BATCH_BYTES (the UTF-8 messages plus EVENT_OVERHEAD bytes per
event) and MAX_BATCH_EVENTS events, in chronological order, spanning at most MAX_BATCH_SPAN_MS;
one event holds at most MAX_EVENT_BYTES. The shipper (runner/shipper.py) keeps its events in
order (`Event.at` never goes back, see `monotonic`), splits over-long lines (`split_message`) and
cuts each request with `take_batch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD  # the message of one event (256 KiB with its overhead)
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Event:
    at: int  # milliseconds since the epoch
    message: str

    @property
    def size(self) -> int:
        """What the event counts for in a request's byte limit."""
        return len(self.message.encode("utf-8")) + EVENT_OVERHEAD

    def to_api(self) -> dict[str, object]:
        return {"timestamp": self.at, "message": self.message}


def monotonic(previous: int, at: int) -> int:
    """The timestamp an event gets: its own, or the previous one when the clock went back (a
    request's events must be in order, and lines are shipped in the order they were written)."""
    return at if at >= previous else previous


def split_message(message: str, limit: int = MAX_EVENT_BYTES) -> list[str]:
    """A line over `limit` UTF-8 bytes as several events, cut on character boundaries, each one
    marked as a continuation after the first. An empty line is one event of one space (CloudWatch
    refuses empty messages)."""
    if not message:
        return [" "]
    data = message.encode("utf-8")
    if len(data) <= limit:
        return [message]
    parts: list[str] = []
    marker = "[continued] "
    start = 0
    while start < len(data):
        room = limit - (len(marker.encode()) if parts else 0)
        end = min(start + room, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a multi-byte character
            end -= 1
        chunk = data[start:end].decode("utf-8")
        parts.append(marker + chunk if parts else chunk)
        start = end
    return parts


def take_batch(events: Sequence[Event], max_bytes: int = MAX_BATCH_BYTES, max_events: int = MAX_BATCH_EVENTS,
               max_span_ms: int = MAX_BATCH_SPAN_MS) -> int:
    """How many events from the head of `events` (in order) make one valid request: at least one
    when there is any (every event fits alone, see split_message)."""
    if not events:
        return 0
    first, total, count = events[0].at, 0, 0
    for event in events:
        if count >= max_events or event.at - first > max_span_ms or (count and total + event.size > max_bytes):
            break
        total += event.size
        count += 1
    return count
