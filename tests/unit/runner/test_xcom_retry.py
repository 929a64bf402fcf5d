"""The runner's task-API client rides out an operator restart: unreachable, 5xx and 429 answers
are tried again with growing delays; refusals (401, 409, 413) and 404 are answers. A real local
HTTP server stands in for the task API (what matters is the client's handling of HTTP)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from updraft.runner.xcom import TaskApiClient, XComError


class Scripted(http.server.BaseHTTPRequestHandler):
    script: list[int] = []
    seen: list[str] = []
    posted: list[tuple[str, bytes]] = []  # (path, body) of every POST
    ports: list[int] = []  # the client's port of every request

    def _answer(self) -> None:
        self.seen.append(self.command)
        self.ports.append(self.client_address[1])
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
        self.posted.append((self.path, self.rfile.read(int(self.headers.get("Content-Length", 0)))))
        self._answer()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Scripted.seen, Scripted.posted, Scripted.ports = [], [], []
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


def test_the_early_report_is_one_try_and_never_fatal(server: str) -> None:
    slept: list[float] = []
    assert client(server, slept).report({"state": "success"}) is None
    assert Scripted.posted == [("/v1/namespaces/ns/runs/run-1/report", b'{"state": "success"}')]
    Scripted.script = [503]
    why = client(server, slept).report({"state": "success"})
    assert why is not None and "503" in why and slept == [] and Scripted.seen == ["POST", "POST"]


def test_an_unreachable_task_api_makes_the_report_a_reason_not_an_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    why = client(f"http://127.0.0.1:{port}", []).report({"state": "failed"}, timeout=1)
    assert why is not None and "unreachable" in why


def _one_task_attempt(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    """The environment of attempt 1 of an EmptyOperator task `t`, reporting to `server`."""
    definition = {"d": {"tasks": {"t": {"operator": "airflow.providers.standard.operators.empty.EmptyOperator"}}}}
    for k, v in {"UPDRAFT_WORKFLOW": "wf", "UPDRAFT_RUN": "run-1", "UPDRAFT_TASK_ID": "t", "UPDRAFT_ATTEMPT": "1",
                 "UPDRAFT_LOGICAL_DATE": "2026-03-01T00:00:00Z", "UPDRAFT_DEFINITION": json.dumps(definition),
                 "UPDRAFT_NAMESPACE": "ns", "UPDRAFT_TASK_API_URL": server, "UPDRAFT_TASK_TOKEN": "tok"}.items():
        monkeypatch.setenv(k, v)


@pytest.mark.airflow
def test_the_runner_reports_what_its_termination_message_says_after_writing_it(
        server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from updraft.runner import main as runner_main

    log = tmp_path / "termination-log"
    written_first: list[bool] = []
    monkeypatch.setattr(runner_main, "TERMINATION_LOG", str(log))
    real = TaskApiClient.report

    def report(self: TaskApiClient, outcome: Any, timeout: float = 3.0) -> str | None:
        written_first.append(json.loads(log.read_text()) == dict(outcome))
        return real(self, outcome, timeout)

    monkeypatch.setattr(TaskApiClient, "report", report)
    _one_task_attempt(monkeypatch, server)
    assert runner_main.main() == 0
    assert written_first == [True]
    reports = [body for path, body in Scripted.posted if path.endswith("/report")]
    assert [json.loads(b) for b in reports] == [json.loads(log.read_text())] == [{"state": "success"}]


def test_the_report_goes_over_the_connection_opened_ahead(server: str) -> None:
    c = client(server, [])
    c.warm()
    warm = c._warm
    assert warm is not None
    warm._thread.join(5)
    assert warm._conn is not None and warm._conn.sock is not None
    local_port = warm._conn.sock.getsockname()[1]
    assert c.report({"state": "success"}) is None
    assert Scripted.ports == [local_port]  # no new connection for the report


def test_a_warm_connection_that_died_meanwhile_falls_back_to_a_new_one(server: str) -> None:
    c = client(server, [])
    c.warm()
    assert c._warm is not None
    c._warm._thread.join(5)
    assert c._warm._conn is not None and c._warm._conn.sock is not None
    c._warm._conn.sock.close()  # the server (or a restart) closed it while the task ran
    assert c.report({"state": "failed"}) is None
    assert [path for path, _ in Scripted.posted] == ["/v1/namespaces/ns/runs/run-1/report"]


def test_a_warm_connection_that_could_not_open_is_not_waited_for_twice() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = client(f"http://127.0.0.1:{port}", [])
    c.warm(timeout=1)
    why = c.report({"state": "success"}, timeout=1)
    assert why is not None and "unreachable" in why


@pytest.mark.airflow
def test_the_runner_reports_before_it_ships_its_log(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Successors start while the log ships (making the logs client alone costs half a second):
    the report is posted before the shipper is closed, without `logs`; the termination message
    then says what became of the log."""
    from updraft.model.states import LogStatus
    from updraft.runner import main as runner_main
    from updraft.runner.shipper import ShipReport

    reports_when_closed: list[int] = []

    class Shipper:  # records when it is closed; the real one is tested against moto in tests/unit/logs
        def add(self, message: str, at_ms: int | None = None) -> None:
            pass

        def close(self, timeout: float = 10.0) -> ShipReport:
            reports_when_closed.append(sum(1 for path, _ in Scripted.posted if path.endswith("/report")))
            return ShipReport(LogStatus.SHIPPED, 5, 0)

    log = tmp_path / "termination-log"
    monkeypatch.setattr(runner_main, "TERMINATION_LOG", str(log))
    monkeypatch.setattr(runner_main, "_start_shipper", lambda env: Shipper())
    _one_task_attempt(monkeypatch, server)
    assert runner_main.main() == 0
    assert reports_when_closed == [1]
    reports = [json.loads(body) for path, body in Scripted.posted if path.endswith("/report")]
    assert reports == [{"state": "success"}]
    assert json.loads(log.read_text()) == {"state": "success", "logs": {"status": "SHIPPED", "sent": 5, "dropped": 0}}
