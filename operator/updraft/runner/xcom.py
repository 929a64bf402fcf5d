"""XCom through the operator's task API (stdlib HTTP; the runner holds no other credentials), and
the attempt's early report of its outcome (`TaskApiClient.report`, engine/outcome.py).

A call the task API could not answer (unreachable while the operator restarts, a 5xx, 429) is
tried again with a growing delay, for about a minute: a finished task is not failed, and its side
effects not run again, because the operator was away for a moment.

The task API speaks HTTPS: its certificate is verified against the CA the operator mounts into
the pod (UPDRAFT_TASK_API_CA_FILE, podspec/trust.py), name included; a certificate that does not
verify is a refusal, never retried and never skipped."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Mapping

from updraft import tls

CA_FILE_ENV = "UPDRAFT_TASK_API_CA_FILE"

RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15, 30)  # about a minute in all
TRANSIENT = frozenset({429, 500, 502, 503, 504})
REPORT_TIMEOUT_S = 3.0  # the early report's one try; the termination message is the fallback


class XComError(RuntimeError):
    """`status` is the task API's HTTP status (None: it could not be reached or not trusted)."""

    def __init__(self, message: str, status: int | None = None, untrusted: bool = False) -> None:
        super().__init__(message)
        self.status, self.untrusted = status, untrusted  # untrusted: the certificate did not verify

    @property
    def transient(self) -> bool:
        return not self.untrusted and (self.status is None or self.status in TRANSIENT)


class TaskApiClient:
    def __init__(self, url: str, namespace: str, run: str, task_id: str, attempt: int, token: str,
                 timeout: float = 30, delays: tuple[float, ...] = RETRY_DELAYS_S,
                 sleep: Callable[[float], None] = time.sleep, ca_file: str | None = None) -> None:
        self.run_url = f"{url.rstrip('/')}/v1/namespaces/{namespace}/runs/{urllib.parse.quote(run)}"
        self.base = f"{self.run_url}/xcom"
        self.headers = {"Authorization": f"Bearer {token}", "X-Updraft-Task": task_id,
                        "X-Updraft-Attempt": str(attempt), "Content-Type": "application/json"}
        self.task_id, self.timeout = task_id, timeout
        self.delays, self.sleep = delays, sleep
        ca_file = ca_file if ca_file is not None else os.environ.get(CA_FILE_ENV) or None
        # https: verified against the mounted CA (or the system's); http: local development only
        self.ssl_context = tls.client_context(ca_file) if url.startswith("https://") else None
        self._warm: _WarmConnection | None = None

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

    def warm(self, timeout: float = REPORT_TIMEOUT_S) -> None:
        """Open a connection to the task API now, in a thread (name lookup, TCP, TLS), for the
        report at the attempt's end: the report is on the path from this task's end to its
        successors' start, the set-up is not."""
        if self._warm is None:
            self._warm = _WarmConnection(self.run_url, self.ssl_context, timeout)

    def report(self, outcome: Mapping[str, Any], timeout: float = REPORT_TIMEOUT_S) -> str | None:
        """Send the attempt's outcome (the termination message's object) once, so the operator
        need not wait for the kubelet to see this container exit. Never fatal: the termination
        message says the same a moment later. On the warm connection if there is one; if that
        fails (the server closed it while the task ran), once more on a new one: the task API
        accepts the same report twice. None when the task API recorded it (or had it already),
        else why not."""
        body = json.dumps(dict(outcome)).encode()
        path = f"{urllib.parse.urlsplit(self.run_url).path}/report"
        conn = self._warm.take(timeout) if self._warm is not None else None
        if conn is not None:
            try:
                conn.request("POST", path, body=body, headers=self.headers)
                resp = conn.getresponse()
                answer = resp.read()
            except (OSError, http.client.HTTPException):
                pass  # closed while the task ran, or reset: a new connection below
            else:
                return None if resp.status == 200 else _refusal(resp.status, answer, resp.reason)
            finally:
                conn.close()
        req = urllib.request.Request(f"{self.run_url}/report", data=body, headers=self.headers, method="POST")
        saved, self.timeout = self.timeout, timeout
        try:
            self._once(req)
        except XComError as e:
            return str(e)
        finally:
            self.timeout = saved
        return None

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
            with urllib.request.urlopen(req, timeout=self.timeout,  # noqa: S310 - the operator's URL
                                        context=self.ssl_context) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", "")
            except ValueError:
                message = ""
            raise XComError(f"task API {e.code}: {message or e.reason}", e.code) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, ssl.SSLCertVerificationError):  # not the operator: never retried
                raise XComError(f"task API certificate not trusted: {e.reason.verify_message}", untrusted=True) from None
            raise XComError(f"task API unreachable: {e.reason}") from None
        except ssl.SSLCertVerificationError as e:
            raise XComError(f"task API certificate not trusted: {e.verify_message}", untrusted=True) from None
        except OSError as e:  # refused, reset, timed out
            raise XComError(f"task API unreachable: {getattr(e, 'reason', e)}") from None


def _refusal(status: int, answer: bytes, reason: str) -> str:
    try:
        message = json.loads(answer).get("error", "")
    except (ValueError, AttributeError):
        message = ""
    return f"task API {status}: {message or reason}"


class _WarmConnection:
    """A connection to the task API opened in a daemon thread; `take` waits for it at most
    `timeout` and gives it away once (None when it could not be opened in time)."""

    def __init__(self, url: str, ssl_context: ssl.SSLContext | None, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https":
            self._conn: http.client.HTTPConnection | None = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=ssl_context)
        else:
            self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        self._ok = False
        self._thread = threading.Thread(target=self._open, name="task-api-warm", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            assert self._conn is not None
            self._conn.connect()
            self._ok = True
        except (OSError, http.client.HTTPException):
            pass  # the report opens its own

    def take(self, timeout: float) -> http.client.HTTPConnection | None:
        self._thread.join(timeout)
        conn, self._conn = self._conn, None
        if conn is None or not self._ok or self._thread.is_alive():
            return None
        return conn
