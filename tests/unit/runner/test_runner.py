"""The runner runs one real Airflow task from the validated definition and maps outcomes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from updraft.definition import validate
from updraft.runner.inputs import InputError, TaskInputs, from_env

LOGICAL = datetime(2026, 3, 1, 6, 30, tzinfo=timezone.utc)


def inputs(yaml: str, task_id: str, **kw: object) -> TaskInputs:
    graph = validate(yaml).graph
    assert graph is not None
    return TaskInputs(workflow="wf", run_id="run-1", task_id=task_id, attempt=1, logical_date=LOGICAL,
                      definition=graph.normalized, **kw)  # type: ignore[arg-type]


def test_inputs_from_env_refuse_missing_or_bad_values() -> None:
    with pytest.raises(InputError, match="missing environment: UPDRAFT_RUN, UPDRAFT_TASK_ID"):
        from_env({"UPDRAFT_WORKFLOW": "w"})
    env = {"UPDRAFT_WORKFLOW": "w", "UPDRAFT_RUN": "r", "UPDRAFT_TASK_ID": "t", "UPDRAFT_ATTEMPT": "2",
           "UPDRAFT_LOGICAL_DATE": "2026-01-01T00:00:00Z", "UPDRAFT_DEFINITION": json.dumps({"d": {}}),
           "UPDRAFT_PARAMS": '{"a": 1}'}
    got = from_env(env)
    assert (got.attempt, got.params, got.logical_date.year) == (2, {"a": 1}, 2026)
    with pytest.raises(InputError, match="ISO-8601"):
        from_env({**env, "UPDRAFT_LOGICAL_DATE": "yesterday"})
    with pytest.raises(InputError, match="UPDRAFT_DEFINITION_FILE"):
        from_env({k: v for k, v in env.items() if k != "UPDRAFT_DEFINITION"})
    with pytest.raises(InputError, match="UPDRAFT_PARAMS: invalid JSON"):
        from_env({**env, "UPDRAFT_PARAMS": "{"})


def test_definition_comes_from_the_mounted_file_first(tmp_path: Path) -> None:
    env = {"UPDRAFT_WORKFLOW": "w", "UPDRAFT_RUN": "r", "UPDRAFT_TASK_ID": "t", "UPDRAFT_ATTEMPT": "1",
           "UPDRAFT_LOGICAL_DATE": "2026-01-01T00:00:00Z", "UPDRAFT_DEFINITION": json.dumps({"inline": {}})}
    mounted = tmp_path / "definition.json"
    mounted.write_text(json.dumps({"mounted": {"tasks": {}}}))
    assert from_env({**env, "UPDRAFT_DEFINITION_FILE": str(mounted)}).definition == {"mounted": {"tasks": {}}}
    with pytest.raises(InputError, match=r"definition\.json: No such file"):
        from_env({**env, "UPDRAFT_DEFINITION_FILE": str(tmp_path / "gone" / "definition.json")})
    mounted.write_text(json.dumps({"a": {}, "b": {}}))
    with pytest.raises(InputError, match="UPDRAFT_DEFINITION_FILE must hold exactly one DAG"):
        from_env({**env, "UPDRAFT_DEFINITION_FILE": str(mounted)})


@pytest.mark.airflow
def test_empty_operator_succeeds() -> None:
    from updraft.runner.execute import run_task

    assert run_task(inputs("d:\n  tasks:\n    t: {operator: EmptyOperator}\n", "t")).state == "success"


@pytest.mark.airflow
def test_context_renders_templates_with_params_and_overrides() -> None:
    from updraft.runner.execute import build_context, load_task

    i = inputs("d:\n  params: {bucket: base, prefix: p}\n  tasks:\n"
               "    t: {operator: S3ListOperator, bucket: '{{ params.bucket }}', "
               "prefix: '{{ params.prefix }}/{{ ds }}/{{ ds_nodash }}/{{ macros.ds_add(ds, 1) }}/{{ run_id }}'}\n",
               "t", params={"bucket": "override"})
    dag, task = load_task(i)
    context = build_context(i, dag, task)
    task.render_template_fields(context)
    assert task.bucket == "override"
    assert task.prefix == "p/2026-03-01/20260301/2026-03-02/run-1"


@pytest.mark.airflow
def test_failures_are_short_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    from updraft.runner.execute import run_task

    # no AWS reachable: the operator's own exception is the message, not a traceback
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = run_task(inputs("d:\n  tasks:\n    t: {operator: S3ListOperator, bucket: b}\n", "t"))
    assert result.state == "failed"
    assert result.error and "\n" not in result.error and len(result.error) <= 1000


@pytest.mark.airflow
def test_main_writes_the_termination_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from updraft.runner import main as runner_main

    i = inputs("d:\n  tasks:\n    t: {operator: EmptyOperator}\n", "t")
    log = tmp_path / "termination-log"
    monkeypatch.setattr(runner_main, "TERMINATION_LOG", str(log))
    for k, v in {"UPDRAFT_WORKFLOW": "wf", "UPDRAFT_RUN": "run-1", "UPDRAFT_TASK_ID": "t", "UPDRAFT_ATTEMPT": "1",
                 "UPDRAFT_LOGICAL_DATE": LOGICAL.isoformat(), "UPDRAFT_DEFINITION": json.dumps(i.definition)}.items():
        monkeypatch.setenv(k, v)
    assert runner_main.main() == 0
    assert json.loads(log.read_text()) == {"state": "success"}
