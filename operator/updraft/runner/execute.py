"""Run one task with Airflow: the task is built from the validated definition (never the raw text)
as dag-factory builds it (runner/build.py: only that task; dag-factory itself for what that module
leaves to it), its templates are rendered with Airflow's context, and its `execute` runs.
Airflow's exceptions map to the outcomes of the engine's contract (engine/outcome.py)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from updraft.runner import timing
from updraft.runner.inputs import TaskInputs

MAX_ERROR = 1000


@dataclass(frozen=True)
class Result:
    state: str  # success | failed | skipped | up_for_reschedule | timeout
    error: str | None = None
    reschedule_at: datetime | None = None
    value: Any = None
    retry: bool = True  # False: Airflow would not retry this failure (AirflowFailException, sensor timeout)


class TaskInstanceView:
    """The `ti` / `task_instance` of the template context. XCom goes to the operator's task API,
    so it reaches the downstream tasks' pods; without one (local use) it stays in this process."""

    def __init__(self, inputs: TaskInputs, task: Any) -> None:
        from updraft.runner.xcom import TaskApiClient

        self.task_id, self.dag_id, self.run_id = inputs.task_id, task.dag_id, inputs.run_id
        self.try_number, self.map_index, self.task = inputs.attempt, -1, task
        self._first = inputs.first_started_at
        self.local: dict[tuple[str, str], Any] = {}
        self.client = (TaskApiClient(inputs.task_api_url, inputs.namespace, inputs.run_id, inputs.task_id,
                                     inputs.attempt, inputs.token) if inputs.task_api_url else None)

    def xcom_push(self, key: str, value: Any) -> None:
        if self.client is not None:
            self.client.push(key, value)
        self.local[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **_: Any) -> Any:
        if task_ids is None:
            task_ids = self.task_id
        if isinstance(task_ids, (list, tuple)):
            return [self._pull(t, key) for t in task_ids]
        return self._pull(str(task_ids), key)

    def _pull(self, task_id: str, key: str) -> Any:
        if (task_id, key) in self.local:
            return self.local[(task_id, key)]
        return self.client.pull(task_id, key) if self.client is not None else None

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return self._first


def load_task(inputs: TaskInputs) -> tuple[Any, Any]:
    """(DAG, task): the task alone when runner/build.py can build it as dag-factory would, else the
    whole DAG through dag-factory."""
    from updraft.runner.build import NotLean, build_task

    try:
        return build_task(inputs.definition, inputs.task_id)
    except NotLean:
        return load_task_with_dagfactory(inputs)


def load_task_with_dagfactory(inputs: TaskInputs) -> tuple[Any, Any]:
    from dagfactory import load_yaml_dags

    from updraft.definition import materialize

    found: dict[str, Any] = {}
    load_yaml_dags(globals_dict=found, config_dict=materialize(dict(inputs.definition)))
    dags = [v for v in found.values() if type(v).__name__ == "DAG"]
    if len(dags) != 1:
        raise RuntimeError(f"the definition built {len(dags)} DAGs")
    dag = dags[0]
    return dag, dag.get_task(inputs.task_id)


def build_context(inputs: TaskInputs, dag: Any, task: Any) -> dict[str, Any]:
    from airflow.sdk.definitions.param import process_params
    from airflow.sdk.execution_time.context import ConnectionAccessor, MacrosAccessor, VariableAccessor

    ld = inputs.logical_date.astimezone(timezone.utc)
    ti = TaskInstanceView(inputs, task)
    ds = ld.strftime("%Y-%m-%d")
    return {
        "dag": dag, "task": task, "ti": ti, "task_instance": ti, "run_id": inputs.run_id,
        "logical_date": ld, "data_interval_start": ld, "data_interval_end": ld,
        "ds": ds, "ds_nodash": ds.replace("-", ""), "ts": ld.isoformat(), "ts_nodash": ld.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ld.strftime("%Y%m%dT%H%M%S%z"), "try_number": inputs.attempt,
        "params": process_params(dag, task, dict(inputs.params), suppress_exception=False),
        "macros": MacrosAccessor(), "var": {"json": VariableAccessor(deserialize_json=True),
                                            "value": VariableAccessor(deserialize_json=False)},
        "conn": ConnectionAccessor(), "inlets": [], "outlets": [],
    }


def run_task(inputs: TaskInputs) -> Result:
    from airflow.exceptions import (AirflowFailException, AirflowRescheduleException, AirflowSensorTimeout,
                                    AirflowSkipException, AirflowTaskTimeout)
    from airflow.sdk.bases.operator import ExecutorSafeguard

    dag, task = load_task(inputs)
    context = build_context(inputs, dag, task)
    try:
        task.render_template_fields(context)
        ctx = contextvars.copy_context()
        ctx.run(ExecutorSafeguard.tracker.set, task)
        timing.mark("execute")
        try:
            value = ctx.run(task.execute, context=context)
        finally:
            timing.mark("executed")
        if value is not None and getattr(task, "do_xcom_push", True):
            context["ti"].xcom_push("return_value", value)
    except AirflowSkipException as e:
        return Result("skipped", _short(e) or None)
    except AirflowRescheduleException as e:
        when = e.reschedule_date
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        return Result("up_for_reschedule", reschedule_at=when)
    except AirflowSensorTimeout as e:  # as in Airflow's task runner: a sensor's timeout is not retried
        return Result("timeout", _short(e), retry=False)
    except AirflowTaskTimeout as e:
        return Result("timeout", _short(e))
    except AirflowFailException as e:  # the task asked to fail without retrying
        return Result("failed", _short(e), retry=False)
    except Exception as e:  # the task's own failure: reported, counted against its retries
        return Result("failed", _short(e))
    return Result("success", value=value)


def _short(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip().rstrip(":")
    first = text.splitlines()[0] if text else type(e).__name__
    return first[:MAX_ERROR]

