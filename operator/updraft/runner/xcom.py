"""XCom through the operator's task API (stdlib HTTP; the runner holds no other credentials).

A call the task API could not answer (unreachable while the operator restarts, a 5xx, 429) is
tried again with a growing delay, for about a minute: a finished task is not failed, and its side
effects not run again, because the operator was away for a moment."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15, 30)  # about a minute in all
TRANSIENT = frozenset({429, 500, 502, 503, 504})


class XComError(RuntimeError):
    """`status` is the task API's HTTP status (None: it could not be reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT


class TaskApiClient:
    def __init__(self, url: str, namespace: str, run: str, task_id: str, attempt: int, token: str,
                 timeout: float = 30, delays: tuple[float, ...] = RETRY_DELAYS_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = f"{url.rstrip('/')}/v1/namespaces/{namespace}/runs/{urllib.parse.quote(run)}/xcom"
        self.headers = {"Authorization": f"Bearer {token}", "X-Updraft-Task": task_id,
                        "X-Updraft-Attempt": str(attempt), "Content-Type": "application/json"}
        self.task_id, self.timeout = task_id, timeout
        self.delays, self.sleep = delays, sleep

    def _url(self, task_id: str, key: str) -> str:
        return f"{self.base}/{urllib.parse.quote(task_id, safe='')}/{urllib.parse.quote(key, safe='')}"

    def push(self, key: str, value: Any) -> None:
        try:
            body = json.dumps({"value": value}).encode()
        except (TypeError, ValueError) as e:
            raise XComError(f"XCom {key!r} is not JSON-serializable: {e}") from None
        self._call(urllib.request.Request(self._url(self.task_id, key), data=body, headers=self.headers, method="POST"))

    def pull(self, task_id: str, key: str = "return_value") -> Any:
        try:
            doc = self._call(urllib.request.Request(self._url(task_id, key), headers=self.headers))
        except XComError as e:
            if e.status == 404:
                return None
            raise
        return doc.get("value")

    def _call(self, req: urllib.request.Request) -> Any:
        for delay in (*self.delays, None):
            try:
                return self._once(req)
            except XComError as e:
                if delay is None or not e.transient:
                    raise
                self.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, req: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the operator's URL
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", "")
            except ValueError:
                message = ""
            raise XComError(f"task API {e.code}: {message or e.reason}", e.code) from None
        except (urllib.error.URLError, OSError) as e:  # refused, reset, timed out
            raise XComError(f"task API unreachable: {getattr(e, 'reason', e)}") from None
