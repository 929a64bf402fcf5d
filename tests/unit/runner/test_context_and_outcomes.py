"""The runner with real Airflow: every template variable and macro the MWAA Serverless guide lists,
XCom inside one attempt, and how real operators' outcomes map to the engine's contract (sensors
against a real S3 API: a moto server in this process)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from updraft.definition import validate
from updraft.runner.inputs import TaskInputs

pytestmark = pytest.mark.airflow
LOGICAL = datetime(2026, 3, 1, 6, 30, 5, tzinfo=timezone.utc)


def _inputs(body: str, task_id: str = "t", **kw: Any) -> TaskInputs:
    graph = validate(f"d:\n  params: {{bucket: base}}\n  tasks:\n{body}").graph
    assert graph is not None
    return TaskInputs(workflow="wf", run_id="run-1", task_id=task_id, attempt=2, logical_date=LOGICAL,
                      definition=graph.normalized, **kw)


def _render(template: str, **kw: Any) -> str:
    """`template` rendered in the runner's context, as a templated field of a real operator."""
    from updraft.runner.execute import build_context, load_task

    i = _inputs(f"    t: {{operator: S3ListOperator, bucket: b, prefix: {json.dumps(template)}}}\n", **kw)
    dag, task = load_task(i)
    task.render_template_fields(build_context(i, dag, task))
    return str(task.prefix)


@pytest.mark.parametrize("template, expected", [
    ("{{ ds }}", "2026-03-01"),
    ("{{ ds_nodash }}", "20260301"),
    ("{{ ts }}", "2026-03-01T06:30:05+00:00"),
    ("{{ ts_nodash }}", "20260301T063005"),
    ("{{ logical_date.year }}-{{ logical_date.hour }}", "2026-6"),
    ("{{ run_id }}", "run-1"),
    ("{{ params.bucket }}", "base"),
    ("{{ ti.task_id }}/{{ task_instance.try_number }}", "t/2"),
    ("{{ macros.ds_add(ds, -1) }}", "2026-02-28"),
    ("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "01/03/2026"),
    ("{{ (logical_date + macros.timedelta(days=1)).strftime('%A') }}", "Monday"),
    ("{{ macros.datetime(2026, 1, 2).isoformat() }}", "2026-01-02T00:00:00"),
    ("{{ macros.dateutil.relativedelta.relativedelta(months=1) }}", "relativedelta(months=+1)"),
    ("{{ macros.time.gmtime(0).tm_year }}", "1970"),
    ("{{ macros.uuid.UUID(int=1) }}", "00000000-0000-0000-0000-000000000001"),
    ("{{ macros.datetime_diff_for_humans(logical_date, logical_date - macros.timedelta(hours=3)) }}",
     "3 hours after"),
])
def test_every_listed_variable_and_macro_renders(template: str, expected: str) -> None:
    assert _render(template) == expected


def test_random_and_overrides() -> None:
    assert 0 <= float(_render("{{ macros.random() }}")) < 1
    assert _render("{{ params.bucket }}", params={"bucket": "override"}) == "override"


def test_xcom_inside_one_attempt() -> None:
    """Without a task API (running the runner by hand) XCom stays in the process: pushes and the
    return value are pulled back by key, lists of task ids give lists, unknown keys give None."""
    from updraft.runner.execute import TaskInstanceView, load_task

    i = _inputs("    t: {operator: EmptyOperator}\n")
    _, task = load_task(i)
    ti = TaskInstanceView(i, task)
    ti.xcom_push("rows", [1, 2])
    ti.xcom_push("return_value", {"ok": True})
    assert ti.xcom_pull(key="rows") == [1, 2]
    assert ti.xcom_pull(task_ids="t") == {"ok": True}
    assert ti.xcom_pull(task_ids=["t", "t"], key="rows") == [[1, 2], [1, 2]]
    assert ti.xcom_pull(task_ids="other") is None


def test_an_operators_return_value_is_its_xcom(moto_s3: str) -> None:
    import boto3

    from updraft.runner.execute import run_task

    boto3.client("s3").create_bucket(Bucket="data")
    boto3.client("s3").put_object(Bucket="data", Key="in/2026-03-01/a.csv", Body=b"x")
    result = run_task(_inputs("    t: {operator: S3ListOperator, bucket: data, prefix: 'in/{{ ds }}/'}\n"))
    assert (result.state, result.value) == ("success", ["in/2026-03-01/a.csv"])


SENSOR = ("    t: {{operator: S3KeySensor, bucket_name: data, bucket_key: 'in/{{{{ ds }}}}/ready', mode: reschedule, "
          "poke_interval: 30, timeout: 600{extra}}}\n")


def test_sensor_outcomes(moto_s3: str) -> None:
    """A real S3KeySensor in reschedule mode: not there yet -> UP_FOR_RESCHEDULE at poke_interval;
    past its timeout -> a timeout that is not retried (as Airflow does), or skipped with soft_fail;
    there -> success."""
    import boto3

    from updraft.runner.execute import run_task

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    before = datetime.now(timezone.utc)
    waiting = run_task(_inputs(SENSOR.format(extra=""), first_started_at=before))
    assert waiting.state == "up_for_reschedule" and waiting.reschedule_at is not None
    assert before + timedelta(seconds=29) <= waiting.reschedule_at <= datetime.now(timezone.utc) + timedelta(seconds=31)

    long_ago = before - timedelta(hours=1)
    timed_out = run_task(_inputs(SENSOR.format(extra=""), first_started_at=long_ago))
    assert (timed_out.state, timed_out.retry) == ("timeout", False)
    assert timed_out.error and timed_out.error.startswith("AirflowSensorTimeout")
    skipped = run_task(_inputs(SENSOR.format(extra=", soft_fail: true"), first_started_at=long_ago))
    assert skipped.state == "skipped"

    s3.put_object(Bucket="data", Key="in/2026-03-01/ready", Body=b"")
    assert run_task(_inputs(SENSOR.format(extra=""), first_started_at=long_ago)).state == "success"


def test_a_task_failure_is_retryable_and_short(moto_s3: str) -> None:
    from updraft.runner.execute import run_task

    result = run_task(_inputs("    t: {operator: S3ListOperator, bucket: no-such-bucket}\n"))
    assert (result.state, result.retry) == ("failed", True)
    assert result.error and re.match(r"^\w+: ", result.error) and "NoSuchBucket" in result.error
    assert "\n" not in result.error


def test_the_termination_message_carries_a_final_failure(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from updraft.engine.outcome import parse_outcome
    from updraft.runner import main as runner_main

    log = tmp_path / "termination-log"
    monkeypatch.setattr(runner_main, "TERMINATION_LOG", str(log))
    runner_main._report(runner_main._outcome("timeout", "AirflowSensorTimeout: gave up", retry=False))
    outcome = parse_outcome(log.read_text())
    assert outcome is not None and (outcome.state, outcome.retry) == ("timeout", False)
