"""Names as MWAA Serverless gives them, where logs go, the one rule that picks where an attempt's
log is read from, and the runner's one log format (noise out, the task's own output in)."""

from __future__ import annotations

import io
import logging
import sys
from datetime import datetime, timezone

import pytest

from updraft import arns
from updraft.model import names
from updraft.model.states import LogBackend, LogStatus
from updraft.plan.logs import CLOUDWATCH, NONE, POD, choose_log_source, effective_log_group, logging_condition
from updraft.runner import logformat

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_names_use_the_workflow_id_of_the_arn() -> None:
    body = {"metadata": {"name": "etl", "uid": "u-1", "annotations": {names.ANNOTATION_API_NAME: "Daily_ETL"}}}
    wid = arns.workflow_id_of(body)
    assert arns.arn_of(body, "us-east-1", "123456789012").endswith(f":workflow/{wid}")
    assert wid.startswith("Daily_ETL-") and len(wid) == len("Daily_ETL-") + 10
    assert names.default_log_group(wid) == f"/aws/mwaa-serverless/{wid}/"
    assert names.log_stream(wid, "etl-m-1", "load", 2) == f"workflow_id={wid}/run_id=etl-m-1/task_id=load/attempt=2.log"


def test_an_over_long_stream_name_is_shortened_stably() -> None:
    long_id = "w" * 300 + "-0123456789"
    a, b = names.log_stream(long_id, "r" * 63, "t" * 200, 1), names.log_stream(long_id, "r" * 63, "t" * 200, 2)
    assert len(a) <= names.MAX_LOG_STREAM and a.endswith("/attempt=1.log") and a != b
    assert a == names.log_stream(long_id, "r" * 63, "t" * 200, 1) and ":" not in a and "*" not in a


def test_the_effective_group_and_the_condition() -> None:
    assert effective_log_group({}, "wf-1", LogBackend.CLOUDWATCH) == "/aws/mwaa-serverless/wf-1/"
    assert effective_log_group({"logging": {"logGroupName": "mine"}}, "wf-1", LogBackend.CLOUDWATCH) == "mine"
    assert effective_log_group({"logging": {"logGroupName": "mine"}}, "wf-1", LogBackend.NONE) is None
    other = {"type": "DefinitionValid", "status": "True"}
    got = logging_condition(False, "GroupNotFound", "m", NOW, 3, [other])
    assert got[0] == other and got[1]["type"] == "LoggingReady" and got[1]["status"] == "False"


CW = dict(backend=LogBackend.CLOUDWATCH, group="/g/")


@pytest.mark.parametrize("kw,source,says", [
    (dict(task_status="RUNNING", latest_attempt=1, attempt=1, log_status=None, pod_exists=True, **CW), POD, "running"),
    (dict(task_status="RUNNING", latest_attempt=1, attempt=1, log_status=None, pod_exists=False, **CW), CLOUDWATCH,
     "so far"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=LogStatus.SHIPPED, pod_exists=True, **CW),
     CLOUDWATCH, "every line"),
    (dict(task_status="FAILED", latest_attempt=1, attempt=1, log_status=LogStatus.PARTIAL, pod_exists=True, **CW),
     POD, "only part"),
    (dict(task_status="FAILED", latest_attempt=1, attempt=1, log_status=LogStatus.INCOMPLETE, pod_exists=False, **CW),
     CLOUDWATCH, "incomplete"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=LogStatus.FAILED, pod_exists=True, **CW),
     POD, "shipping failed"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=LogStatus.FAILED, pod_exists=False, **CW),
     NONE, "pod is gone"),
    (dict(task_status="FAILED", latest_attempt=3, attempt=1, log_status=LogStatus.SHIPPED, pod_exists=False, **CW),
     CLOUDWATCH, "earlier attempt"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=None, pod_exists=True, **CW),
     POD, "ships its log after reporting its outcome"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=None, pod_exists=True,
          backend=LogBackend.NONE, group=None), POD, "logs.backend: none"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=1, log_status=None, pod_exists=False,
          backend=LogBackend.NONE, group=None), NONE, "only while the pod exists"),
    (dict(task_status="NONE", latest_attempt=0, attempt=1, log_status=None, pod_exists=False, **CW), NONE,
     "not started"),
    (dict(task_status="SUCCESS", latest_attempt=1, attempt=2, log_status=None, pod_exists=False, **CW), NONE,
     "not started"),
])
def test_the_read_back_rule_says_which_source_and_why(kw: dict, source: str, says: str) -> None:
    got = choose_log_source(log_reason=None, **kw)
    assert got.source == source and says in got.reason


def test_one_format_every_line_tagged_and_no_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    out, shipped = io.StringIO(), []
    monkeypatch.setattr(sys, "stdout", out)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup = logformat.install("wf", "run-1", "t", 2, ship=shipped.append)
    try:
        logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.autogenerate.schemas")
        logging.getLogger("airflow.providers_manager").info("not fully initialized ... flask_appbuilder ...")
        logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
        logging.getLogger("py.warnings").warning(
            "/x/site-packages/airflow/models/dag.py:1: DeprecationWarning: old\n  warnings.warn(")
        logging.getLogger("airflow.task").info("the task's own line")
        print("printed by the task")
        sys.stderr.write("to stderr\npartial")
        setup.restore()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = out.getvalue().splitlines()
    assert lines == shipped and len(lines) == 4
    assert all(" INFO " in l or " WARNING " in l for l in lines)
    assert all(" workflow=wf run=run-1 task=t attempt=2 - " in l and l.startswith("[2") for l in lines)
    assert [l.split(" - ", 1)[1] for l in lines] == ["the task's own line", "printed by the task", "to stderr", "partial"]
    assert "{stdout}" in lines[1] and "{stderr}" in lines[2]


def test_the_cli_finds_a_runs_workflow_and_says_where_lines_come_from() -> None:
    from updraft.remote import logs as cli

    workflows = [{"Name": "etl"}, {"Name": "etl-daily"}, {"Name": "Daily_ETL"}]
    assert [w["Name"] for w in cli.workflows_of_run("etl-daily-m-0123456789ab", workflows)] == ["etl-daily"]
    assert [w["Name"] for w in cli.workflows_of_run("etl-s-202603010630", workflows)] == ["etl"]
    folded = names.manual_run_name(names.workflow_object_name("Daily_ETL"), "k")
    assert [w["Name"] for w in cli.workflows_of_run(folded, workflows)] == ["Daily_ETL"]
    line = cli.source_line("load", {"Source": "cloudwatch", "Attempt": 2, "LogGroup": "/g/", "LogStream": "s",
                                    "Reason": "every line was shipped"})
    assert line == "# load attempt 2: cloudwatch /g/s (every line was shipped)"
    assert cli.prefixed("load", ["a"], many=True) == ["load | a"] and cli.prefixed("load", ["a"], many=False) == ["a"]
