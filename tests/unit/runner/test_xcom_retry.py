"""The runner's task-API client rides out an operator restart: unreachable, 5xx and 429 answers
are tried again with growing delays; refusals (401, 409, 413) and 404 are answers. A real local
HTTP server stands in for the task API (what matters is the client's handling of HTTP)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from updraft.runner.xcom import TaskApiClient, XComError


class Scripted(http.server.BaseHTTPRequestHandler):
    script: list[int] = []
    seen: list[str] = []

    def _answer(self) -> None:
        self.seen.append(self.command)
        code = self.script.pop(0) if self.script else 200
        body = json.dumps({"value": "v"} if code == 200 else {"error": f"scripted {code}"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Scripted.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def client(url: str, slept: list[float]) -> TaskApiClient:
    return TaskApiClient(url, "ns", "run-1", "load", 1, "tok", timeout=5, delays=(0.1, 0.2, 0.4), sleep=slept.append)


def test_a_push_during_an_operator_restart_is_retried_not_failed(server: str) -> None:
    Scripted.script = [503, 502]
    slept: list[float] = []
    client(server, slept).push("k", {"a": 1})
    assert Scripted.seen == ["POST"] * 3 and slept == [0.1, 0.2]


def test_refusals_are_answers_not_retried(server: str) -> None:
    for code in (401, 409, 413):
        Scripted.script, Scripted.seen = [code], []
        slept: list[float] = []
        with pytest.raises(XComError) as refused:
            client(server, slept).push("k", 1)
        assert refused.value.status == code and slept == [] and len(Scripted.seen) == 1
    Scripted.script = [404]
    assert client(server, []).pull("extract") is None


def test_an_operator_that_stays_away_fails_the_call_after_the_delays() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    slept: list[float] = []
    with pytest.raises(XComError, match="unreachable") as gone:
        client(f"http://127.0.0.1:{port}", slept).push("k", 1)
    assert gone.value.status is None and slept == [0.1, 0.2, 0.4]
