"""XCom through the operator's task API (stdlib HTTP; the runner holds no other credentials).

A call the task API could not answer (unreachable while the operator restarts, a 5xx, 429) is
tried again with a growing delay, for about a minute: a finished task is not failed, and its side
effects not run again, because the operator was away for a moment.

The task API speaks HTTPS: its certificate is verified against the CA the operator mounts into
the pod (UPDRAFT_TASK_API_CA_FILE, podspec/trust.py), name included; a certificate that does not
verify is a refusal, never retried and never skipped."""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from updraft import tls

CA_FILE_ENV = "UPDRAFT_TASK_API_CA_FILE"

RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15, 30)  # about a minute in all
TRANSIENT = frozenset({429, 500, 502, 503, 504})


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
        self.base = f"{url.rstrip('/')}/v1/namespaces/{namespace}/runs/{urllib.parse.quote(run)}/xcom"
        self.headers = {"Authorization": f"Bearer {token}", "X-Updraft-Task": task_id,
                        "X-Updraft-Attempt": str(attempt), "Content-Type": "application/json"}
        self.task_id, self.timeout = task_id, timeout
        self.delays, self.sleep = delays, sleep
        ca_file = ca_file if ca_file is not None else os.environ.get(CA_FILE_ENV) or None
        # https: verified against the mounted CA (or the system's); http: local development only
        self.ssl_context = tls.client_context(ca_file) if url.startswith("https://") else None

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
