"""The runner as a pod runs it (a process of its own, Airflow imported as a library): the outcome and
the timing line come out, and the modules it defers load on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from updraft.definition import validate
from updraft.runner import timing

OPERATOR_DIR = Path(__file__).parents[3] / "operator"
REPO = Path(__file__).parents[3]


def test_the_timing_line_round_trips() -> None:
    timing.mark("main")
    line = timing.line()
    marks = timing.parse(f"2026-01-01 INFO something\n{line}\nlater line\n")
    assert marks is not None and marks["main"] <= marks["exit"]
    assert timing.parse("no timing here") is None
    assert timing.parse(f"{timing.PREFIX} {{broken") is None


def _env(tmp_path: Path, definition: str, task_id: str) -> dict[str, str]:
    graph = validate(definition).graph
    assert graph is not None
    (tmp_path / "definition.json").write_text(json.dumps(graph.normalized))
    return {**os.environ, "PYTHONPATH": str(OPERATOR_DIR), "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "UPDRAFT_WORKFLOW": "wf", "UPDRAFT_RUN": "run-1", "UPDRAFT_TASK_ID": task_id, "UPDRAFT_ATTEMPT": "1",
            "UPDRAFT_LOGICAL_DATE": "2026-03-01T00:00:00Z", "UPDRAFT_PARAMS": '{"who": "pod"}',
            "UPDRAFT_DEFINITION_FILE": str(tmp_path / "definition.json"),
            "UPDRAFT_TERMINATION_LOG": str(tmp_path / "termination-log")}


@pytest.mark.airflow
def test_a_pod_process_reports_its_outcome_and_timing(tmp_path: Path) -> None:
    env = _env(tmp_path, "d:\n  params: {who: nobody}\n  tasks:\n"
                         "    a: {operator: EmptyOperator}\n    b: {operator: EmptyOperator, dependencies: [a]}\n", "b")
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "termination-log").read_text()) == {"state": "success"}
    marks = timing.parse(proc.stdout)
    assert marks is not None
    assert marks["process_start"] <= marks["main"] + 0.05 and marks["main"] <= marks["execute"]
    assert marks["execute"] <= marks["executed"] <= marks["exit"]
    assert "task=b attempt=1 - finished: success" in proc.stdout


@pytest.mark.airflow
def test_a_failing_pod_process_reports_a_retryable_failure(tmp_path: Path) -> None:
    env = _env(tmp_path, "d:\n  tasks:\n    t: {operator: S3ListOperator, bucket: b}\n", "t")
    env.update({"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"})
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    outcome = json.loads((tmp_path / "termination-log").read_text())
    assert outcome["state"] == "failed" and "retry" not in outcome and "\n" not in outcome["error"]
    assert timing.parse(proc.stdout) is not None


@pytest.mark.airflow
def test_deferred_modules_load_on_first_use() -> None:
    """The API server's app is not imported on the task's path, and is the real module once used."""
    code = """
import sys
from updraft.runner.deferred import DeferredModule, defer
assert defer() == ["airflow.api_fastapi.app", "airflow.utils.decorators", "airflow.serialization.serialized_objects"]
from airflow.providers.standard.operators.empty import EmptyOperator
EmptyOperator(task_id="t")
import airflow.utils.db_manager as db_manager
assert isinstance(sys.modules["airflow.api_fastapi.app"], DeferredModule)
assert not {"fastapi", "libcst", "airflow.providers.standard.operators.python"} & set(sys.modules)
assert db_manager.create_auth_manager.__name__ == "create_auth_manager"
from airflow.api_fastapi.app import get_auth_manager_cls
assert not isinstance(sys.modules["airflow.api_fastapi.app"], DeferredModule)
assert get_auth_manager_cls.__module__ == "airflow.api_fastapi.app"
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(OPERATOR_DIR), "_AIRFLOW__AS_LIBRARY": "1"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


@pytest.mark.airflow
def test_every_task_of_the_corpus_builds_and_renders_with_deferred_modules(tmp_path: Path) -> None:
    """In a process set up as a pod's (Airflow as a library, modules deferred), every task of every
    definition in the corpus is built and its templates rendered as in a pod."""
    code = """
import json, sys
from datetime import datetime, timezone
from pathlib import Path
from updraft.runner.main import _airflow_as_library, _install_secrets_masker
_airflow_as_library()
_install_secrets_masker()
from updraft.definition import validate
from updraft.runner.execute import build_context, load_task
from updraft.runner.inputs import TaskInputs
count = 0
for path in sys.argv[1:]:
    graph = validate(Path(path).read_text()).graph
    for task_id in graph.tasks:
        i = TaskInputs(workflow="wf", run_id="r", task_id=task_id, attempt=1,
                       logical_date=datetime(2026, 3, 1, tzinfo=timezone.utc), definition=graph.normalized)
        dag, task = load_task(i)
        assert list(dag.task_dict) == [task_id], (path, task_id)
        task.render_template_fields(build_context(i, dag, task))
        count += 1
print("built", count)
"""
    paths = [str(p) for p in sorted((REPO / "tests" / "fixtures" / "definitions" / "converter").glob("*.yaml"))
             + sorted((REPO / "tests" / "fixtures" / "definitions" / "valid").glob("*.yaml"))
             + sorted(REPO.glob("examples/*/definition/*.yaml"))]
    env = {**os.environ, "PYTHONPATH": str(OPERATOR_DIR), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    proc = subprocess.run([sys.executable, "-c", code, *paths], env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split("built ")[-1]) >= 20


@pytest.mark.airflow
def test_a_pod_process_runs_a_real_s3_operator(tmp_path: Path, moto_s3: str) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket="data")
    boto3.client("s3").put_object(Bucket="data", Key="in/2026-03-01/a.csv", Body=b"x")
    env = _env(tmp_path, "d:\n  tasks:\n    t: {operator: S3KeySensor, bucket_name: data, "
                         "bucket_key: 'in/{{ ds }}/a.csv', mode: reschedule}\n", "t")
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "termination-log").read_text()) == {"state": "success"}


@pytest.mark.airflow
def test_a_pod_process_writes_an_s3_object(tmp_path: Path, moto_s3: str) -> None:
    # S3CreateObjectOperator reaches Airflow's plugins manager (through the S3 hook's lineage),
    # which needs the configuration's folders even when Airflow is imported as a library
    import boto3

    boto3.client("s3").create_bucket(Bucket="data")
    env = _env(tmp_path, "d:\n  tasks:\n    t: {operator: S3CreateObjectOperator, s3_bucket: data, "
                         "s3_key: 'out/{{ ds }}.csv', data: 'id,{{ ds }}'}\n", "t")
    proc = subprocess.run([sys.executable, "-m", "updraft.runner"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    assert json.loads((tmp_path / "termination-log").read_text()) == {"state": "success"}
    assert boto3.client("s3").get_object(Bucket="data", Key="out/2026-03-01.csv")["Body"].read() == b"id,2026-03-01"
