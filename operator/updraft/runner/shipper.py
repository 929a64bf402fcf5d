"""Ship the task's log to CloudWatch Logs from the task pod, with the pod's own credentials (the
workflow role), as MWAA Serverless does.

Lines are buffered in memory (at most `max_buffer_bytes`: when full, the oldest lines go and one
marker line says how many) and sent by a background thread every `interval` seconds, or sooner
once `flush_bytes` are waiting, in requests that keep PutLogEvents' rules (runner/batches.py).
The stream is created on the first send (it may exist: a sensor's reschedules write more pods of
one attempt into it). Shipping never changes the task's outcome: `close` waits a bounded time and
returns a ShipReport (SHIPPED, PARTIAL or FAILED, with the reason), which the runner puts in its
termination message for the operator.

Nothing is sent (and the logs client, about half a second of CPU, is not made) before `ready()`
says so: the runner holds the first send until the task's `execute` has begun, so that shipping
does not slow the task's start; lines wait in the buffer meanwhile.

Errors that will not go away (access denied, a missing group, a refused request) stop shipping at
once; others (the endpoint unreachable, throttling, 5xx) are retried on the next tick while the
buffer holds.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from updraft.model.states import LogStatus
from updraft.runner.batches import Event, monotonic, split_message, take_batch

PERMANENT_CODES = frozenset({"AccessDeniedException", "ResourceNotFoundException", "InvalidParameterException",
                             "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException",
                             "DataAlreadyAcceptedException", "UnauthorizedOperation"})
MAX_REASON = 300
READY_POLL_S = 0.25


@dataclass(frozen=True)
class ShipReport:
    status: str  # LogStatus.SHIPPED | PARTIAL | FAILED
    sent: int  # lines (events) CloudWatch accepted
    dropped: int  # lines lost: buffer overflow, refused by CloudWatch, or never sent
    reason: str | None = None

    def to_report(self) -> dict[str, object]:
        """The `logs` member of the runner's termination message (engine/outcome.py)."""
        doc: dict[str, object] = {"status": self.status, "sent": self.sent, "dropped": self.dropped}
        if self.reason:
            doc["reason"] = self.reason[:MAX_REASON]
        return doc


def default_client() -> Any:
    """A `logs` client with the pod's credentials and region; short timeouts and few retries, so a
    blackholed endpoint costs the task seconds, not minutes."""
    import boto3
    from botocore.config import Config

    return boto3.client("logs", config=Config(connect_timeout=2, read_timeout=5,
                                              retries={"mode": "standard", "max_attempts": 2}))


def _error(e: Exception) -> tuple[str, bool]:
    """(a short reason, permanent?) for an exception of a PutLogEvents/CreateLogStream call."""
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        code = str(err.get("Code") or type(e).__name__)
        return f"{code}: {err.get('Message') or e}", code in PERMANENT_CODES
    return f"{type(e).__name__}: {e}", False


class LogShipper:
    def __init__(self, group: str, stream: str, client_factory: Callable[[], Any] = default_client, *,
                 interval: float = 2.0, flush_bytes: int = 512 * 1024, max_buffer_bytes: int = 8 * 1024 * 1024,
                 first_send_after: float | None = None, ready: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.time) -> None:
        self.group, self.stream, self.ready = group, stream, ready
        self.first_send_after = interval if first_send_after is None else first_send_after
        self.client_factory, self.interval, self.clock = client_factory, interval, clock
        self.flush_bytes, self.max_buffer_bytes = flush_bytes, max_buffer_bytes
        self._lock = threading.Condition()
        self._buffer: collections.deque[Event] = collections.deque()
        self._buffered_bytes = 0
        self._last_at = 0
        self._in_flight: list[Event] = []  # a batch taken from the buffer whose send failed (retried)
        self._dropped_unreported = 0  # overflow since the last marker line
        self._closing = False
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._stream_ready = False
        self.sent = 0
        self.dropped = 0
        self.permanent_error: str | None = None
        self.last_error: str | None = None

    # -- the writers' side (any thread) -------------------------------------------------------
    def add(self, message: str, at_ms: int | None = None) -> None:
        at = int(self.clock() * 1000) if at_ms is None else at_ms
        with self._lock:
            if self.permanent_error is not None:
                self.dropped += 1
                return
            self._last_at = at = monotonic(self._last_at, at)
            for part in split_message(message):
                event = Event(at, part)
                self._buffer.append(event)
                self._buffered_bytes += event.size
            while self._buffered_bytes > self.max_buffer_bytes and len(self._buffer) > 1:
                old = self._buffer.popleft()
                self._buffered_bytes -= old.size
                self.dropped += 1
                self._dropped_unreported += 1
            if self._buffered_bytes >= self.flush_bytes:
                self._lock.notify()

    def start(self) -> LogShipper:
        self._thread = threading.Thread(target=self._run, name="updraft-log-shipper", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> ShipReport:
        """Send what is left (waiting at most `timeout` seconds) and say how it went."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            unsent = len(self._buffer) + len(self._in_flight)
            timed_out = self._thread is not None and self._thread.is_alive()
            return self._report(unsent, timed_out, timeout)

    def _report(self, unsent: int, timed_out: bool, timeout: float) -> ShipReport:
        lost = self.dropped + unsent
        reason = self.permanent_error or self.last_error
        if timed_out:
            reason = f"the last lines were not sent within {timeout:g}s" + (f" ({reason})" if reason else "")
        elif unsent and not reason:
            reason = f"{unsent} lines were never sent"
        if not lost:
            return ShipReport(LogStatus.SHIPPED, self.sent, 0)
        if not reason:
            reason = f"{self.dropped} lines dropped: the log buffer ({self.max_buffer_bytes} bytes) was full"
        return ShipReport(LogStatus.PARTIAL if self.sent else LogStatus.FAILED, self.sent, lost, reason)

    # -- the sender thread --------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.first_send_after
        while True:
            with self._lock:
                if not self._closing and (self._buffered_bytes < self.flush_bytes or not self.ready()):
                    self._lock.wait(delay)
                closing = self._closing
            if not closing and not self.ready():
                delay = READY_POLL_S  # lines wait in the buffer (bounded) until the task has started
                continue
            delay = self.interval
            self._send_all()
            if closing:
                return

    def _send_all(self) -> None:
        """Send batches until the buffer is empty or a send fails (a transient failure is tried
        again on the next tick; a permanent one ends shipping)."""
        while True:
            with self._lock:
                if self.permanent_error is not None:
                    return
                if not self._in_flight:
                    self._in_flight = self._take()
                batch = list(self._in_flight)
            if not batch:
                return
            try:
                self._put(batch)
            except Exception as e:  # noqa: BLE001 - shipping never breaks the task
                reason, permanent = _error(e)
                with self._lock:
                    self.last_error = reason
                    if permanent:
                        self.permanent_error = reason
                        self.dropped += len(self._in_flight) + len(self._buffer)
                        self._in_flight, self._buffer, self._buffered_bytes = [], collections.deque(), 0
                return

    def _take(self) -> list[Event]:
        """The next request's events (called with the lock held), after a marker line when lines
        were dropped since the last one."""
        if self._dropped_unreported and self._buffer:
            marker = Event(self._buffer[0].at, f"[updraft] {self._dropped_unreported} log lines dropped: the buffer "
                                               f"({self.max_buffer_bytes} bytes) was full")
            self._buffer.appendleft(marker)
            self._buffered_bytes += marker.size
            self._dropped_unreported = 0
        n = take_batch(self._buffer)
        batch = [self._buffer.popleft() for _ in range(n)]
        self._buffered_bytes -= sum(e.size for e in batch)
        return batch

    def _put(self, batch: list[Event]) -> None:
        if self._client is None:
            self._client = self.client_factory()
        if not self._stream_ready:
            try:
                self._client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
            except Exception as e:  # noqa: BLE001
                code = (getattr(e, "response", None) or {}).get("Error", {}).get("Code")
                if code != "ResourceAlreadyExistsException":
                    if code == "ResourceNotFoundException":
                        raise _Refused("ResourceNotFoundException", f"log group {self.group} does not exist") from e
                    raise
            self._stream_ready = True
        response = self._client.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                               logEvents=[e.to_api() for e in batch])
        rejected = _rejected(response.get("rejectedLogEventsInfo") or {}, len(batch))
        with self._lock:
            self._in_flight = []
            self.sent += len(batch) - rejected
            if rejected:
                self.dropped += rejected
                self.last_error = f"CloudWatch Logs refused {rejected} events (too old or too new: the pod's clock?)"


class _Refused(Exception):
    """A refusal that is not a botocore ClientError but reads like one (see _error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


def _rejected(info: dict[str, Any], count: int) -> int:
    """How many events of a request CloudWatch refused (its rejectedLogEventsInfo)."""
    refused: set[int] = set()
    if "tooNewLogEventStartIndex" in info:
        refused.update(range(int(info["tooNewLogEventStartIndex"]), count))
    for key in ("tooOldLogEventEndIndex", "expiredLogEventEndIndex"):
        if key in info:
            refused.update(range(0, int(info[key]) + 1))
    return len(refused)
