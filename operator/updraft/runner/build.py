"""Build the one task a pod runs, as dag-factory 1.0.1 would build it, without building the others.

dag-factory imports its whole builder (PythonOperator, the HTTP and SQL providers: ~1.7 s before any
task here) and instantiates every task of the DAG. The pod runs one task, so this module builds the
same `DAG` object (same arguments as `DagBuilder.build`), the task groups on the task's path (for
its id and group default_args) and that task only, with the same arguments dag-factory passes to
the operator. The differential test (tests/differential/test_runner_build_vs_dagfactory.py) holds
the two to the same attributes over every definition in the corpus.

Definitions this module does not know how to build identically (a key dag-factory treats
specially: callbacks, mapping, `python_callable*`, `variables_as_arguments`, ...) are refused with
`NotLean`, and the caller builds them with dag-factory itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from updraft.definition.values import materialize

# The DAG-level keys Updraft's normalized form holds (definition/validate.py `_normalized`).
DAG_KEYS = frozenset({"dag_id", "params", "default_args", "schedule", "max_active_runs", "catchup",
                      "start_date", "end_date", "timezone", "task_groups", "tasks"})
GROUP_KEYS = frozenset({"parent_group_name", "dependencies", "prefix_group_id", "default_args", "tooltip",
                        "ui_color", "ui_fgcolor", "group_display_name"})
# Keys dag-factory rewrites before calling the operator (dagbuilder.make_task / adjust_general_task_params).
SPECIAL_TASK_KEYS = frozenset({"decorator", "expand", "partial", "python_callable", "python_callable_name",
                               "python_callable_file", "execution_date_fn", "execution_delta",
                               "execution_date_fn_name", "execution_date_fn_file", "variables_as_arguments",
                               "success_check_file", "success_check_name", "success_check_lambda",
                               "failure_check_file", "failure_check_name", "failure_check_lambda",
                               "response_check_name", "response_check_file", "response_check_lambda"})
CALLBACKS = ("on_execute_callback", "on_success_callback", "on_failure_callback", "on_retry_callback",
             "on_skipped_callback", "sla_miss_callback")
# dag-factory gives these classes extra treatment (dagbuilder.make_task): left to it.
SPECIAL_MODULES = ("airflow.providers.http.", "airflow.providers.common.sql.sensors.",
                   "airflow.providers.standard.operators.python", "airflow.providers.standard.sensors.python")
# dag-factory's SYSTEM_PARAMS: read by the builder, never passed to the operator.
SYSTEM_PARAMS = ("operator", "dependencies", "task_group_name", "parent_group_name")


class NotLean(ValueError):
    """The definition uses something only dag-factory builds identically."""


def _callbacks(conf: Mapping[str, Any]) -> list[str]:
    return [k for k in conf if k.startswith(CALLBACKS)]


def _check(dag_conf: Mapping[str, Any], task_conf: Mapping[str, Any], groups: Mapping[str, Any]) -> None:
    extra = set(dag_conf) - DAG_KEYS
    if extra:
        raise NotLean(f"DAG keys {sorted(extra)}")
    if not isinstance(dag_conf.get("tasks"), dict) or not isinstance(groups, dict):
        raise NotLean("tasks/task_groups in list form")
    defaults = dag_conf.get("default_args") or {}
    if _callbacks(dag_conf) or _callbacks(defaults):
        raise NotLean("callbacks")
    special = (set(task_conf) & SPECIAL_TASK_KEYS) or set(_callbacks(task_conf))
    if special:
        raise NotLean(f"task keys {sorted(special)}")
    operator = task_conf.get("operator")
    if not isinstance(operator, str) or operator.startswith(SPECIAL_MODULES):
        raise NotLean(f"operator {operator!r}")
    for name, grp in groups.items():
        if not isinstance(grp, dict) or set(grp) - GROUP_KEYS or _callbacks(grp.get("default_args") or {}):
            raise NotLean(f"task group {name!r}")


def _datetime(value: Any, zone: str) -> datetime:
    """dagfactory.utils.get_datetime for the forms the normalized definition holds."""
    import pendulum

    local = pendulum.timezone(zone)
    if isinstance(value, datetime):
        return value.replace(tzinfo=local)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).replace(tzinfo=local)
    if isinstance(value, str):
        try:
            return pendulum.parse(value).replace(tzinfo=local)  # type: ignore[union-attr,call-arg,return-value]
        except pendulum.parsing.exceptions.ParserError:
            pass
    raise NotLean(f"date {value!r}")


def _group_path(groups: Mapping[str, Any], name: str | None) -> list[str]:
    """The task's group and its ancestors, outermost first."""
    path: list[str] = []
    while name:
        if name in path or name not in groups:
            raise NotLean(f"task group {name!r}")
        path.insert(0, name)
        name = groups[name].get("parent_group_name")
    return path


def _task_id(key: str, groups: Mapping[str, Any], path: list[str]) -> str:
    """The id Airflow gives the task `key` inside the groups `path` (TaskGroup.child_id)."""
    prefix = ""
    for name in path:
        group_id = f"{prefix}.{name}" if prefix else name
        prefix = group_id if groups[name].get("prefix_group_id", True) else ""
    return f"{prefix}.{key}" if prefix else key


def find_task(definition: Mapping[str, Any], task_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(dag_id, the DAG's config, the YAML key of the task whose Airflow id is `task_id`)."""
    (dag_id, dag_conf), = definition.items()
    tasks, groups = dag_conf.get("tasks"), dag_conf.get("task_groups") or {}
    if not isinstance(tasks, dict) or not isinstance(groups, dict):
        raise NotLean("tasks/task_groups in list form")
    for key, conf in tasks.items():
        if isinstance(conf, dict) and _task_id(key, groups, _group_path(groups, conf.get("task_group_name"))) == task_id:
            return dag_id, dag_conf, {"key": key, "conf": conf}
    raise KeyError(f"task {task_id!r} is not in the definition of {dag_id!r}")


def build_task(definition: Mapping[str, Any], task_id: str) -> tuple[Any, Any]:
    """(DAG, operator) for `task_id`, built the way dag-factory builds them, other tasks left out."""
    dag_id, raw_conf, found = find_task(definition, task_id)
    groups_raw = raw_conf.get("task_groups") or {}
    _check(raw_conf, found["conf"], groups_raw)
    conf: dict[str, Any] = materialize(dict(raw_conf))
    task_conf: dict[str, Any] = materialize(dict(found["conf"]))
    groups: dict[str, Any] = conf.get("task_groups") or {}

    from airflow.configuration import conf as airflow_conf
    from airflow.sdk.definitions.dag import DAG

    default_args = dict(conf.get("default_args") or {})
    for key in ("end_date", "start_date"):  # DagBuilder.get_dag_params
        if default_args.get(key) is not None:
            default_args[key] = _datetime(default_args[key], default_args.get("timezone", "UTC"))
    zone = conf.get("timezone", "UTC")
    schedule = conf.get("schedule")
    if isinstance(schedule, str) and schedule.strip().lower() == "none":
        schedule = None
    dag = DAG(
        dag_id=dag_id, dag_display_name=dag_id, description=None,
        max_active_tasks=airflow_conf.getint("core", "max_active_tasks_per_dag"),
        catchup=conf.get("catchup", airflow_conf.getboolean("scheduler", "catchup_by_default")),
        max_active_runs=conf.get("max_active_runs", airflow_conf.getint("core", "max_active_runs_per_dag")),
        dagrun_timeout=None, template_searchpath=None, render_template_as_native_obj=False,
        sla_miss_callback=None, on_success_callback=None, on_failure_callback=None, default_args=default_args,
        doc_md=None, access_control=None, is_paused_upon_creation=None, schedule=schedule,
        params=conf.get("params"),
        start_date=None if conf.get("start_date") is None else _datetime(conf["start_date"], zone),
        end_date=None if conf.get("end_date") is None else _datetime(conf["end_date"], zone),
    )
    dag.tags = ["dagfactory"]  # type: ignore[assignment]  # as dag-factory sets them (Airflow makes a set)
    dag.is_dagfactory_auto_generated = True  # type: ignore[attr-defined]

    params: dict[str, Any] = {k: v for k, v in task_conf.items() if k not in SYSTEM_PARAMS}
    params.update(task_id=found["key"], dag=dag)
    path = _group_path(groups, task_conf.get("task_group_name"))
    if path:
        from airflow.sdk.definitions.taskgroup import TaskGroup

        parent: Any = None
        for name in path:
            args: dict[str, Any] = {k: v for k, v in groups[name].items() if k not in SYSTEM_PARAMS}
            if parent is not None:
                args["parent_group"] = parent
            parent = TaskGroup(group_id=name, dag=dag, **args)
        params["task_group"] = parent

    import importlib

    module, _, name = task_conf["operator"].rpartition(".")
    operator_class = getattr(importlib.import_module(module), name)
    task = operator_class(**params)
    if task.task_id != task_id:
        raise NotLean(f"built {task.task_id!r} for {task_id!r}")
    return dag, task
