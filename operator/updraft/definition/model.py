"""The typed result of validating a workflow definition: the task graph every other part reads.

Pure data. The validator (`updraft.definition.validate`) is the only producer; the engine, the
scheduler, the runner, the API and the CLI are consumers. `to_dict`/`from_dict` give a JSON form
that round-trips exactly, so a graph can be stored or passed between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

# Airflow's trigger rules (airflow.utils.trigger_rule.TriggerRule), by value.
TRIGGER_RULES = (
    "all_success",
    "all_failed",
    "all_done",
    "all_done_setup_success",
    "all_skipped",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
)


@dataclass(frozen=True)
class Issue:
    """One error or warning: where (a dotted path such as `tasks.load.retries`), which rule, why."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Task:
    task_id: str
    operator: str  # full import path, e.g. airflow.providers.amazon.aws.operators.s3.S3ListOperator
    upstream: tuple[str, ...] = ()  # sorted task ids
    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=300)
    retry_exponential_backoff: bool = False
    max_retry_delay: timedelta | None = None
    execution_timeout: timedelta | None = None
    trigger_rule: str = "all_success"
    # Sensors: "poke" or "reschedule"; None for operators that are not sensors.
    mode: str | None = None
    poke_interval: timedelta | None = None
    sensor_timeout: timedelta | None = None
    # The operator's own arguments (validated, JSON-safe), as the runner hands them to Airflow.
    arguments: Mapping[str, Any] = field(default_factory=dict)
    task_group: str | None = None

    @property
    def is_sensor(self) -> bool:
        return self.mode is not None


@dataclass(frozen=True)
class TaskGraph:
    dag_id: str
    tasks: Mapping[str, Task]  # in a topological order, ties broken by task id
    schedule: str | None = None  # cron (5 fields) or an Airflow preset (@daily, @once ...); None: manual only
    timezone: str | None = None  # IANA name; None means UTC unless the Workflow overrides it
    start_date: datetime | None = None  # aware (UTC) datetimes
    end_date: datetime | None = None
    max_active_runs: int = 16
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    # The validated definition in dag-factory's form ({dag_id: {...}}), with only allowlisted
    # `__type__` values: what the runner hands to dag-factory instead of the raw YAML.
    normalized: Mapping[str, Any] = field(default_factory=dict)

    def downstream(self, task_id: str) -> tuple[str, ...]:
        return tuple(t.task_id for t in self.tasks.values() if task_id in t.upstream)


@dataclass(frozen=True)
class ValidationResult:
    graph: TaskGraph | None
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and self.graph is not None
