"""Differential: the graph Updraft's validator builds equals the DAG that dag-factory + Airflow build
from the same YAML (real dag-factory 1.0.1 and Airflow 3.0.6, no mocks) — over the converter's
outputs and the hand-written corpus. Also: dag-factory builds the same DAG from Updraft's
`normalized` dict, which is what the runner hands it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from updraft.definition import TaskGraph, materialize, validate

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(120)]

FIXTURES = Path(__file__).parents[1] / "fixtures" / "definitions"
CONVERTER = sorted((FIXTURES / "converter").glob("*.yaml"))
HANDWRITTEN = sorted((FIXTURES / "valid").glob("*.yaml"))
# dag-factory reads only its own form; the guide's simplified form is compared through `normalized`.


def _is_dagfactory_form(path: Path) -> bool:
    import yaml

    top = yaml.safe_load(path.read_text())
    return "dag_id" not in top and "tasks" not in top


DAGFACTORY_FORM = CONVERTER + [p for p in HANDWRITTEN if _is_dagfactory_form(p)]


def _load(**kwargs: Any) -> Any:
    from dagfactory import load_yaml_dags

    found: dict[str, Any] = {}
    load_yaml_dags(globals_dict=found, **kwargs)
    dags = [v for v in found.values() if type(v).__name__ == "DAG"]
    assert len(dags) == 1, f"dag-factory built {len(dags)} DAGs"
    return dags[0]


def _airflow_view(dag: Any) -> dict[str, Any]:
    tasks = {}
    for tid, t in dag.task_dict.items():
        tasks[tid] = {
            "operator": f"{type(t).__module__}.{type(t).__name__}",
            "upstream": set(t.upstream_task_ids),
            "retries": t.retries,
            "retry_delay": t.retry_delay,
            "execution_timeout": t.execution_timeout,
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
        }
    tt = dag.timetable
    schedule = getattr(tt, "_expression", None) or ("@once" if type(tt).__name__ == "OnceTimetable" else None)
    return {"tasks": tasks, "schedule": schedule, "timezone": getattr(dag.timezone, "name", str(dag.timezone))}


def _updraft_view(g: TaskGraph) -> dict[str, Any]:
    return {
        "tasks": {tid: {"operator": t.operator, "upstream": set(t.upstream), "retries": t.retries,
                        "retry_delay": t.retry_delay, "execution_timeout": t.execution_timeout,
                        "trigger_rule": t.trigger_rule} for tid, t in g.tasks.items()},
        "schedule": _cron_of(g.schedule),
        "timezone": g.timezone or "UTC",
    }


def _cron_of(schedule: str | None) -> str | None:
    presets = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
               "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *"}
    return presets.get(schedule, schedule) if schedule else None


def _compare(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours["tasks"]) == set(theirs["tasks"])
    for tid in ours["tasks"]:
        assert ours["tasks"][tid] == theirs["tasks"][tid], tid
    assert _cron_of(ours["schedule"]) == _cron_of(theirs["schedule"])
    assert ours["timezone"] == theirs["timezone"]


@pytest.mark.parametrize("path", DAGFACTORY_FORM, ids=[p.stem for p in DAGFACTORY_FORM])
def test_same_graph_as_dag_factory_from_the_file(path: Path) -> None:
    graph = validate(path.read_text()).graph
    assert graph is not None
    _compare(_updraft_view(graph), _airflow_view(_load(config_filepath=str(path))))


@pytest.mark.parametrize("path", CONVERTER + HANDWRITTEN, ids=[p.stem for p in CONVERTER + HANDWRITTEN])
def test_normalized_dict_builds_the_same_dag(path: Path) -> None:
    graph = validate(path.read_text()).graph
    assert graph is not None
    dag = _load(config_dict=materialize(graph.normalized))
    _compare(_updraft_view(graph), _airflow_view(dag))
    if graph.start_date is not None:
        assert dag.start_date == graph.start_date


def test_default_retry_delay_matches_airflow() -> None:
    graph = validate("d:\n  tasks:\n    t: {operator: EmptyOperator}\n").graph
    assert graph is not None
    assert graph.tasks["t"].retry_delay == timedelta(seconds=300)
    assert _airflow_view(_load(config_dict=materialize(graph.normalized)))["tasks"]["t"]["retry_delay"] == timedelta(seconds=300)
