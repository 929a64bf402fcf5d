"""The runner's log shipper against a real CloudWatch Logs API (a moto server), and the pure rules
of PutLogEvents it applies. moto does not enforce the 256 KiB event or 10,000-event batch limits:
those are checked on the batches themselves (take_batch, split_message)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from updraft.model.states import LogStatus
from updraft.runner.batches import (EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES, Event,
                                    monotonic, split_message, take_batch)
from updraft.runner.shipper import LogShipper

from tests.conftest import free_port

GROUP = "/aws/mwaa-serverless/wf-0123456789/"
OPERATOR_DIR = Path(__file__).parents[3] / "operator"


@pytest.fixture
def logs(moto_s3: str) -> Iterator[Any]:
    """A `logs` client of a moto server (the moto_s3 fixture's server serves every service) with
    a fresh group made (moto's state outlives one server)."""
    import boto3

    global GROUP
    GROUP = f"/aws/mwaa-serverless/wf-{uuid.uuid4().hex[:10]}/"
    client = boto3.client("logs", endpoint_url=moto_s3, region_name="us-east-1")
    client.create_log_group(logGroupName=GROUP)
    yield client


def _messages(logs: Any, stream: str) -> list[str]:
    out, token = [], None
    while True:
        args: dict[str, Any] = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
        if token:
            args["nextToken"] = token
        page = logs.get_log_events(**args)
        out += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token or not page["events"]:
            return out
        token = page["nextForwardToken"]


def _client_of(logs: Any) -> Any:
    return lambda: logs


# -- the rules, pure ------------------------------------------------------------------------------

def test_a_batch_keeps_the_count_the_bytes_and_the_time_span() -> None:
    small = [Event(1000 + i, "x") for i in range(MAX_BATCH_EVENTS + 5)]
    assert take_batch(small) == MAX_BATCH_EVENTS
    big = [Event(1000, "y" * (MAX_EVENT_BYTES)) for _ in range(10)]
    n = take_batch(big)
    assert n == MAX_BATCH_BYTES // (MAX_EVENT_BYTES + EVENT_OVERHEAD) and sum(e.size for e in big[:n]) <= MAX_BATCH_BYTES
    day = 24 * 3600 * 1000
    assert take_batch([Event(0, "a"), Event(day, "b"), Event(day + 1, "c")]) == 2
    assert take_batch([]) == 0
    assert monotonic(5, 3) == 5 and monotonic(5, 9) == 9


def test_an_over_long_line_is_split_on_character_boundaries() -> None:
    line = "é" * (MAX_EVENT_BYTES // 2 + 10)  # two bytes each: just over one event
    parts = split_message(line)
    assert len(parts) == 2 and all(len(p.encode()) <= MAX_EVENT_BYTES for p in parts)
    assert parts[0] + parts[1].removeprefix("[continued] ") == line
    assert split_message("") == [" "] and split_message("short") == ["short"]


# -- against the moto server ----------------------------------------------------------------------

def test_lines_arrive_in_order_in_the_attempts_stream(logs: Any) -> None:
    stream = "workflow_id=wf-0123456789/run_id=r1/task_id=t/attempt=1.log"
    shipper = LogShipper(GROUP, stream, _client_of(logs), interval=0.1).start()
    start = int(time.time() * 1000) - 60_000
    for i in range(12_000):  # more than one request's 10,000 events
        shipper.add(f"line {i}", at_ms=start + (i if i != 5 else 0))  # one step back in time
    shipper.add("x" * (MAX_EVENT_BYTES + 100))  # split in two events
    report = shipper.close()
    assert (report.status, report.sent, report.dropped) == (LogStatus.SHIPPED, 12_002, 0)
    got = _messages(logs, stream)
    assert got[:12_000] == [f"line {i}" for i in range(12_000)]
    assert got[12_000].startswith("xxx") and got[12_001].startswith("[continued] x")


def test_a_full_buffer_drops_the_oldest_lines_and_says_how_many(logs: Any) -> None:
    stream = "workflow_id=wf-0123456789/run_id=r2/task_id=t/attempt=1.log"
    shipper = LogShipper(GROUP, stream, _client_of(logs), interval=3600, max_buffer_bytes=100 * (EVENT_OVERHEAD + 8),
                         flush_bytes=10**9)
    for i in range(150):
        shipper.add(f"line {i:03d}")  # 8 bytes each
    shipper.start()
    report = shipper.close()
    assert report.status == LogStatus.PARTIAL and report.dropped == 50 and report.sent == 101
    assert "50 lines dropped" in (report.reason or "")
    got = _messages(logs, stream)
    assert got[0].startswith("[updraft] 50 log lines dropped") and got[1:] == [f"line {i:03d}" for i in range(50, 150)]


def test_an_unreachable_endpoint_fails_the_shipping_not_the_caller() -> None:
    import boto3
    from botocore.config import Config

    dead = f"http://127.0.0.1:{free_port()}"
    client = boto3.client("logs", endpoint_url=dead, region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x", config=Config(connect_timeout=1, retries={"max_attempts": 1}))
    shipper = LogShipper(GROUP, "s", lambda: client, interval=0.1).start()
    for i in range(10):
        shipper.add(f"line {i}")
    report = shipper.close(timeout=10)
    assert report.status == LogStatus.FAILED and report.sent == 0 and report.dropped == 10
    assert "Could not connect" in (report.reason or "")


def test_events_cloudwatch_refuses_count_as_dropped(logs: Any) -> None:
    shipper = LogShipper(GROUP, "old", _client_of(logs), interval=0.1).start()
    shipper.add("from 2023", at_ms=1_700_000_000_000)  # older than 14 days: refused
    shipper.add("now")
    report = shipper.close()
    assert (report.status, report.sent, report.dropped) == (LogStatus.PARTIAL, 1, 1)
    assert "refused 1 events" in (report.reason or "")


def test_a_missing_group_stops_shipping_with_the_reason(logs: Any) -> None:
    shipper = LogShipper("/not/there/", "s", _client_of(logs), interval=0.1).start()
    shipper.add("one")
    report = shipper.close()
    assert report.status == LogStatus.FAILED and "/not/there/ does not exist" in (report.reason or "")
    shipper.add("after")  # dropped at once: no more calls
    assert shipper.dropped == 2


# -- the runner, a pod-like process ---------------------------------------------------------------

def _runner_env(tmp_path: Path, endpoint: str, task: str) -> dict[str, str]:
    from updraft.definition import validate

    graph = validate("d:\n  tasks:\n    t: {operator: EmptyOperator}\n    bad: {operator: S3ListOperator, bucket: nope}\n").graph
    assert graph is not None
    (tmp_path / "definition.json").write_text(json.dumps(graph.normalized))
    return {**os.environ, "PYTHONPATH": str(OPERATOR_DIR), "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "UPDRAFT_WORKFLOW": "wf", "UPDRAFT_RUN": "run-1", "UPDRAFT_TASK_ID": task, "UPDRAFT_ATTEMPT": "1",
            "UPDRAFT_LOGICAL_DATE": "2026-03-01T00:00:00Z", "UPDRAFT_DEFINITION_FILE": str(tmp_path / "definition.json"),
            "UPDRAFT_TERMINATION_LOG": str(tmp_path / "termination-log"), "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
            "UPDRAFT_LOG_GROUP": GROUP, "UPDRAFT_LOG_STREAM": f"workflow_id=wf/run_id=run-1/task_id={task}/attempt=1.log"}


@pytest.mark.airflow
def test_a_task_pod_ships_its_tagged_lines(tmp_path: Path, logs: Any, moto_s3: str) -> None:
    env = _runner_env(tmp_path, moto_s3, "bad")  # a failing S3 call: the task's own error is in the log
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    report = json.loads((tmp_path / "termination-log").read_text())
    assert report["state"] == "failed" and report["logs"]["status"] == LogStatus.SHIPPED, proc.stdout[-2000:]
    got = _messages(logs, env["UPDRAFT_LOG_STREAM"])
    assert any("starting" in m for m in got) and any("finished: failed (NoSuchBucket" in m for m in got)
    assert all(" workflow=wf run=run-1 task=bad attempt=1 - " in m for m in got)
    assert all(m.startswith("[") and "} " in m for m in got)
    noise = ("alembic", "flask_appbuilder", "Reading the config", "DeprecationWarning")
    assert not [m for m in got if any(n in m for n in noise)]
    stdout = proc.stdout.splitlines()
    assert [line for line in stdout if line in got] == got  # the same lines, the same format, on stdout


@pytest.mark.airflow
def test_an_unreachable_logs_endpoint_leaves_the_task_successful(tmp_path: Path) -> None:
    env = _runner_env(tmp_path, f"http://127.0.0.1:{free_port()}", "t")
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
    report = json.loads((tmp_path / "termination-log").read_text())
    assert report["state"] == "success" and report["logs"]["status"] == LogStatus.FAILED
    assert "Could not connect" in report["logs"]["reason"]
    assert "the log was not fully shipped to CloudWatch Logs (FAILED" in proc.stdout


def test_nothing_is_sent_before_the_task_has_started(logs: Any) -> None:
    started = threading.Event()
    made: list[int] = []

    def factory() -> Any:
        made.append(1)
        return logs

    shipper = LogShipper(GROUP, "start", factory, interval=0.05, ready=started.is_set).start()
    shipper.add("while Airflow loads")
    time.sleep(0.5)  # many ticks: none may send, nor make the client
    assert made == [] and not logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    started.set()
    report = shipper.close()
    assert (report.status, report.sent, made) == (LogStatus.SHIPPED, 1, [1])
    assert _messages(logs, "start") == ["while Airflow loads"]
