"""Differential: the graph Updraft's validator builds equals the DAG that dag-factory + Airflow build
from the same YAML (real dag-factory 1.0.1 and Airflow 3.0.6, no mocks) — over the converter's
outputs and the hand-written corpus. Also: dag-factory builds the same DAG from Updraft's
`normalized` dict, which is what the runner hands it, and the places where Updraft deliberately
differs from dag-factory (no `$VAR` expansion, bare-number execution_timeout) are pinned down.

Compared per task: id, upstream ids, operator class path, retries, retry_delay, execution_timeout,
trigger_rule, retry_exponential_backoff, max_retry_delay, sensor mode/poke_interval/timeout, and
every operator argument Updraft keeps that the built operator exposes as an attribute. Per DAG:
schedule, time zone, start/end dates, max_active_runs, params.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from updraft.definition import TaskGraph, materialize, validate

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(120)]

FIXTURES = Path(__file__).parents[1] / "fixtures" / "definitions"
EXAMPLES = Path(__file__).parents[2] / "examples"
CONVERTER = sorted((FIXTURES / "converter").glob("*.yaml")) + sorted(EXAMPLES.glob("*/dag/*.yaml"))
HANDWRITTEN = sorted((FIXTURES / "valid").glob("*.yaml"))
ALL = CONVERTER + HANDWRITTEN
# Updraft rewrites these on purpose (the workflow's role; no triggerer), so they are not compared.
REWRITTEN_ARGS = {"aws_conn_id", "deferrable"}


def _is_dagfactory_form(path: Path) -> bool:
    """dag-factory reads only its own form; the guide's simplified form is compared through `normalized`."""
    import yaml

    top = yaml.safe_load(path.read_text())
    return "dag_id" not in top and "tasks" not in top


DAGFACTORY_FORM = [p for p in ALL if _is_dagfactory_form(p)]
SIMPLIFIED_FORM = [p for p in ALL if not _is_dagfactory_form(p)]


def _load(**kwargs: Any) -> Any:
    from dagfactory import load_yaml_dags

    found: dict[str, Any] = {}
    load_yaml_dags(globals_dict=found, **kwargs)
    dags = [v for v in found.values() if type(v).__name__ == "DAG"]
    assert len(dags) == 1, f"dag-factory built {len(dags)} DAGs"
    return dags[0]


def _seconds(v: Any) -> float | None:
    if v is None:
        return None
    return v.total_seconds() if isinstance(v, timedelta) else float(v)


def _airflow_view(dag: Any) -> dict[str, Any]:
    from airflow.sdk.bases.sensor import BaseSensorOperator

    tasks = {}
    for tid, t in dag.task_dict.items():
        sensor = isinstance(t, BaseSensorOperator)
        tasks[tid] = {
            "operator": f"{type(t).__module__}.{type(t).__name__}",
            "upstream": set(t.upstream_task_ids),
            "retries": t.retries,
            "retry_delay": t.retry_delay,
            "execution_timeout": t.execution_timeout,
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "retry_exponential_backoff": bool(t.retry_exponential_backoff),
            "max_retry_delay": t.max_retry_delay,
            "mode": t.mode if sensor else None,
            "poke_interval": _seconds(t.poke_interval) if sensor else None,
            "timeout": _seconds(t.timeout) if sensor else None,
        }
    tt = dag.timetable
    schedule = getattr(tt, "_expression", None) or ("@once" if type(tt).__name__ == "OnceTimetable" else None)
    return {"tasks": tasks, "schedule": schedule, "timezone": getattr(dag.timezone, "name", str(dag.timezone)),
            "start_date": dag.start_date, "end_date": dag.end_date, "max_active_runs": dag.max_active_runs,
            "params": dict(dag.params.dump())}


def _updraft_view(g: TaskGraph) -> dict[str, Any]:
    return {
        "tasks": {tid: {"operator": t.operator, "upstream": set(t.upstream), "retries": t.retries,
                        "retry_delay": t.retry_delay, "execution_timeout": t.execution_timeout,
                        "trigger_rule": t.trigger_rule, "retry_exponential_backoff": t.retry_exponential_backoff,
                        "max_retry_delay": t.max_retry_delay, "mode": t.mode,
                        "poke_interval": _seconds(t.poke_interval), "timeout": _seconds(t.sensor_timeout)}
                  for tid, t in g.tasks.items()},
        "schedule": g.schedule,
        "timezone": g.timezone or "UTC",
        "start_date": g.start_date, "end_date": g.end_date, "max_active_runs": g.max_active_runs,
        "params": dict(g.params),
    }


def _cron_of(schedule: str | None) -> str | None:
    from updraft.schedule import PRESETS

    return PRESETS.get(schedule, schedule) if schedule else None


def _compare(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours["tasks"]) == set(theirs["tasks"])
    for tid in ours["tasks"]:
        assert ours["tasks"][tid] == theirs["tasks"][tid], tid
    assert _cron_of(ours["schedule"]) == _cron_of(theirs["schedule"])
    for key in ("timezone", "start_date", "end_date", "max_active_runs", "params"):
        assert ours[key] == theirs[key], key


def _compare_arguments(graph: TaskGraph, dag: Any) -> int:
    """Each operator argument Updraft keeps reaches the built operator unchanged; returns how many
    were compared (so a test can tell it compared something)."""
    compared = 0
    for tid, task in graph.tasks.items():
        built = dag.task_dict[tid]
        for key, value in task.arguments.items():
            if key in REWRITTEN_ARGS or not hasattr(built, key):
                continue
            expected, actual = materialize(value), getattr(built, key)
            if isinstance(expected, timedelta) or isinstance(actual, timedelta):
                expected, actual = _seconds(expected), _seconds(actual)
            assert actual == expected, f"{tid}.{key}"
            compared += 1
    return compared


@pytest.mark.parametrize("path", DAGFACTORY_FORM, ids=[p.stem for p in DAGFACTORY_FORM])
def test_same_graph_as_dag_factory_from_the_file(path: Path) -> None:
    graph = validate(path.read_text()).graph
    assert graph is not None
    dag = _load(config_filepath=str(path))
    _compare(_updraft_view(graph), _airflow_view(dag))
    assert _compare_arguments(graph, dag) > 0


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_normalized_dict_builds_the_same_dag(path: Path) -> None:
    graph = validate(path.read_text()).graph
    assert graph is not None
    dag = _load(config_dict=materialize(graph.normalized))
    _compare(_updraft_view(graph), _airflow_view(dag))
    assert _compare_arguments(graph, dag) > 0
    written = graph.normalized[graph.dag_id]["tasks"]  # keyed by YAML key: `g.t` (converter) or `t` in group g
    for tid, task in dag.task_dict.items():
        if "aws_conn_id" in written.get(tid, written.get(tid.rsplit(".", 1)[-1], {})):
            assert task.aws_conn_id is None  # the default credential chain: the workflow's role


@pytest.mark.parametrize("path", SIMPLIFIED_FORM, ids=[p.stem for p in SIMPLIFIED_FORM])
def test_dag_factory_cannot_read_the_simplified_form_itself(path: Path) -> None:
    """Why the guide's form is only compared through `normalized`."""
    with pytest.raises(Exception):  # noqa: B017 - whichever dag-factory raises first (schedule_interval, ...)
        _load(config_filepath=str(path))


def test_default_retry_delay_matches_airflow() -> None:
    graph = validate("d:\n  tasks:\n    t: {operator: EmptyOperator}\n").graph
    assert graph is not None
    assert graph.tasks["t"].retry_delay == timedelta(seconds=300)
    assert _airflow_view(_load(config_dict=materialize(graph.normalized)))["tasks"]["t"]["retry_delay"] == timedelta(seconds=300)


def test_bare_number_execution_timeout_is_normalised(tmp_path: Path) -> None:
    """dag-factory alone rejects `execution_timeout: 600`; Updraft accepts it as seconds and hands
    dag-factory the timedelta form."""
    text = "d:\n  tasks:\n    t: {operator: airflow.providers.standard.operators.empty.EmptyOperator, execution_timeout: 600}\n"
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(Exception, match="timedelta"):
        _load(config_filepath=str(path))
    graph = validate(text).graph
    assert graph is not None
    assert _load(config_dict=materialize(graph.normalized)).task_dict["t"].execution_timeout == timedelta(seconds=600)


def test_environment_variables_are_not_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dag-factory expands `$NAME` from the environment of whoever loads the file; the runner hands it
    the normalized dict instead, where the text stays as written."""
    monkeypatch.setenv("UPDRAFT_DIFF_SECRET", "leaked")
    text = "d:\n  tasks:\n    t: {operator: S3ListOperator, bucket: $UPDRAFT_DIFF_SECRET}\n"
    path = tmp_path / "d.yaml"
    path.write_text(text.replace("S3ListOperator", "airflow.providers.amazon.aws.operators.s3.S3ListOperator"))
    assert _load(config_filepath=str(path)).task_dict["t"].bucket == "leaked"
    result = validate(text)
    assert result.graph is not None and [w.rule for w in result.warnings] == ["env-variable"]
    assert _load(config_dict=materialize(result.graph.normalized)).task_dict["t"].bucket == "$UPDRAFT_DIFF_SECRET"


def test_timezone_without_start_date_is_honoured_unlike_dag_factory(tmp_path: Path) -> None:
    """dag-factory's `timezone` only localises start_date/end_date strings, so without a start_date
    its DAG runs the cron in UTC. Updraft's scheduler (not the runner's DAG) fires runs, and it
    follows what the author wrote: the cron runs in Europe/Paris. Pinned so a change is deliberate."""
    text = ("tz:\n  schedule: '0 6 * * *'\n  timezone: Europe/Paris\n  tasks:\n"
            "    t: {operator: airflow.providers.standard.operators.empty.EmptyOperator}\n")
    path = tmp_path / "tz.yaml"
    path.write_text(text)
    assert _airflow_view(_load(config_filepath=str(path)))["timezone"] == "UTC"
    graph = validate(text).graph
    assert graph is not None and graph.timezone == "Europe/Paris"
