"""Differential: the task the runner builds alone (updraft/runner/build.py) is the task real
dag-factory 1.0.1 builds inside the whole DAG from the same normalized definition — for every task
of every definition in the corpus (converter outputs, examples, hand-written ones).

Compared: the operator class, every attribute the built operator holds (its arguments after
Airflow's default_args, group default_args and operator defaults, templated fields included),
except the links to the other tasks, which the runner does not build; the DAG's arguments; the
params a run resolves and the Jinja environment templates are rendered with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from updraft.definition import materialize, validate

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).parents[1] / "fixtures" / "definitions"
EXAMPLES = Path(__file__).parents[2] / "examples"
ALL = (sorted((FIXTURES / "converter").glob("*.yaml")) + sorted(EXAMPLES.glob("*/dag/*.yaml"))
       + sorted(EXAMPLES.glob("*/definition/*.yaml")) + sorted((FIXTURES / "valid").glob("*.yaml")))
# Links to the rest of the graph (the runner builds one task), and where the DAG object was made.
RELATIONAL = {"upstream_task_ids", "downstream_task_ids", "_dag", "dag", "task_group", "_task_group",
              "_BaseOperator__init_kwargs", "_BaseOperator__from_mapped", "start_from_trigger", "start_trigger_args"}
DAG_ATTRS = ("dag_id", "dag_display_name", "description", "max_active_tasks", "max_active_runs", "catchup",
             "dagrun_timeout", "template_searchpath", "render_template_as_native_obj", "default_args",
             "start_date", "end_date", "timezone", "tags", "doc_md", "access_control",
             "is_paused_upon_creation", "user_defined_macros", "user_defined_filters", "jinja_environment_kwargs")


def _dagfactory_dag(normalized: dict[str, Any]) -> Any:
    from dagfactory import load_yaml_dags

    found: dict[str, Any] = {}
    load_yaml_dags(globals_dict=found, config_dict=materialize(normalized))
    (dag,) = [v for v in found.values() if type(v).__name__ == "DAG"]
    return dag


def _comparable(value: Any) -> Any:
    """Objects without their own equality (a hook's helper state) compare by class and contents."""
    if type(value).__eq__ is object.__eq__ and hasattr(value, "__dict__"):
        return type(value), {k: _comparable(v) for k, v in vars(value).items()}
    return value


def _attributes(task: Any) -> dict[str, Any]:
    return {k: _comparable(v) for k, v in vars(task).items() if k not in RELATIONAL}


def _dag_view(dag: Any) -> dict[str, Any]:
    view = {k: getattr(dag, k, None) for k in DAG_ATTRS}
    view["timetable"] = (type(dag.timetable).__name__, getattr(dag.timetable, "summary", None))
    view["params"] = dag.params.dump()
    view["fileloc_is_a_file"] = bool(dag.fileloc)
    return view


UNPREFIXED_GROUPS = """
unprefixed:
  params: {n: 1}
  default_args: {retries: 1}
  task_groups:
    outer: {prefix_group_id: false, default_args: {retries: 2}}
    inner: {parent_group_name: outer}
    deep: {parent_group_name: inner, prefix_group_id: false}
  tasks:
    a: {operator: airflow.providers.standard.operators.empty.EmptyOperator, task_group_name: outer}
    b: {operator: airflow.providers.standard.operators.empty.EmptyOperator, task_group_name: inner}
    c: {operator: airflow.providers.standard.operators.empty.EmptyOperator, task_group_name: deep}
"""
CASES = [p.read_text() for p in ALL] + [UNPREFIXED_GROUPS]


@pytest.mark.parametrize("text", CASES, ids=[p.stem for p in ALL] + ["unprefixed_groups"])
def test_the_runner_builds_each_task_as_dag_factory_does(text: str) -> None:
    from airflow.sdk.definitions.param import process_params

    from updraft.runner.build import build_task

    graph = validate(text).graph
    assert graph is not None
    theirs = _dagfactory_dag(graph.normalized)
    their_view = _dag_view(theirs)
    their_view["doc_md"] = None  # dag-factory writes the YAML it read into doc_md; the runner leaves it out
    assert theirs.task_dict
    for task_id, their_task in theirs.task_dict.items():
        dag, task = build_task(graph.normalized, task_id)
        assert type(task) is type(their_task), task_id
        assert task.task_id == task_id
        assert _attributes(task) == _attributes(their_task), task_id
        assert (task.task_group.group_id if task.task_group else None) == \
            (their_task.task_group.group_id if their_task.task_group else None), task_id
        assert _dag_view(dag) == their_view, task_id
        assert process_params(dag, task, {}, suppress_exception=False) == \
            process_params(theirs, their_task, {}, suppress_exception=False), task_id
        assert type(task.get_template_env()) is type(their_task.get_template_env()), task_id
        assert list(dag.task_dict) == [task_id]  # only the task that runs was built


def test_definitions_it_cannot_build_identically_are_left_to_dag_factory() -> None:
    """A key dag-factory treats specially (callbacks, mapping, python callables) is refused, so the
    runner falls back to dag-factory instead of building something different."""
    from updraft.runner.build import NotLean, build_task

    base = {"dag_id": "d", "params": {}, "default_args": {}, "schedule": "None",
            "tasks": {"t": {"operator": "airflow.providers.standard.operators.empty.EmptyOperator"}}}
    dag, task = build_task({"d": base}, "t")
    assert task.task_id == "t"
    for change in ({"description": "x"}, {"default_args": {"on_failure_callback": "m.f"}},
                   {"tasks": {"t": {**base["tasks"]["t"], "expand": {"x": [1]}}}},
                   {"tasks": {"t": {**base["tasks"]["t"], "on_success_callback": "m.f"}}},
                   {"tasks": {"t": {"operator": "airflow.providers.standard.operators.python.PythonOperator"}}},
                   {"tasks": [{"task_id": "t", "operator": "x.Y"}]}):
        with pytest.raises(NotLean):
            build_task({"d": {**base, **change}}, "t")
    with pytest.raises(KeyError, match="'u' is not in the definition"):
        build_task({"d": base}, "u")
