"""XCom through the operator's task API (stdlib HTTP; the runner holds no other credentials)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class XComError(RuntimeError):
    pass


class TaskApiClient:
    def __init__(self, url: str, namespace: str, run: str, task_id: str, attempt: int, token: str,
                 timeout: float = 30) -> None:
        self.base = f"{url.rstrip('/')}/v1/namespaces/{namespace}/runs/{urllib.parse.quote(run)}/xcom"
        self.headers = {"Authorization": f"Bearer {token}", "X-Updraft-Task": task_id,
                        "X-Updraft-Attempt": str(attempt), "Content-Type": "application/json"}
        self.task_id, self.timeout = task_id, timeout

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
            if "404" in str(e):
                return None
            raise
        return doc.get("value")

    def _call(self, req: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the operator's URL
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", "")
            except ValueError:
                message = ""
            raise XComError(f"task API {e.code}: {message or e.reason}") from None
        except urllib.error.URLError as e:
            raise XComError(f"task API unreachable: {e.reason}") from None
