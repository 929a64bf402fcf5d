"""The run engine's inputs and outputs (pure data).

RunStatus is what lives in a WorkflowRun's `status`: `from_dict`/`to_dict` convert to the CR's
camelCase form, so the engine can start from whatever an earlier operator process wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Mapping

from updraft.model.names import log_stream, task_instance_id
from updraft.model.states import RunState, TaskState
from updraft.model.times import format_ts, parse_ts


@dataclass(frozen=True)
class TaskInstance:
    task_id: str
    status: str = TaskState.NONE
    attempt: int = 0  # the try number of the latest attempt; 0: never started
    reschedules: int = 0  # sensor re-launches within the current attempt
    infra_retries: int = 0  # attempts lost to the infrastructure (not counted against retries)
    unseen_relaunches: int = 0  # pods recorded but gone before they were seen (an operator crash between
    # recording a pod and creating it, or a pod deleted at once): re-launched, bounded apart
    pod_name: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    next_attempt_at: datetime | None = None
    error: str | None = None
    log_status: str | None = None  # model.states.LogStatus of the latest attempt (None: not shipped)
    log_reason: str | None = None  # why it is not SHIPPED

    def to_dict(self, task_instance_id: str, log_stream: str) -> dict[str, Any]:
        d: dict[str, Any] = {
            "taskInstanceId": task_instance_id, "taskId": self.task_id, "attemptNumber": self.attempt,
            "status": self.status, "startedAt": format_ts(self.started_at), "endedAt": format_ts(self.ended_at),
            "podName": self.pod_name, "errorMessage": self.error, "logStream": log_stream,
            "rescheduleCount": self.reschedules, "infraRetries": self.infra_retries,
            "unseenRelaunches": self.unseen_relaunches or None,
            "nextAttemptAt": format_ts(self.next_attempt_at), "logStatus": self.log_status,
            "logStatusReason": self.log_reason,
        }
        return {k: v for k, v in d.items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TaskInstance:
        return cls(task_id=d["taskId"], status=d.get("status", TaskState.NONE), attempt=int(d.get("attemptNumber", 0)),
                   reschedules=int(d.get("rescheduleCount", 0)), infra_retries=int(d.get("infraRetries", 0)),
                   unseen_relaunches=int(d.get("unseenRelaunches", 0)),
                   pod_name=d.get("podName"), started_at=parse_ts(d.get("startedAt")),
                   ended_at=parse_ts(d.get("endedAt")), next_attempt_at=parse_ts(d.get("nextAttemptAt")),
                   error=d.get("errorMessage"), log_status=d.get("logStatus"), log_reason=d.get("logStatusReason"))


@dataclass(frozen=True)
class RunStatus:
    run_state: str = RunState.STARTING
    started_on: datetime | None = None
    completed_on: datetime | None = None
    error_message: str | None = None
    tasks: Mapping[str, TaskInstance] = field(default_factory=dict)

    @property
    def duration(self) -> int | None:
        if self.started_on is None or self.completed_on is None:
            return None
        return int((self.completed_on - self.started_on).total_seconds())

    def with_task(self, ti: TaskInstance) -> RunStatus:
        return replace(self, tasks={**self.tasks, ti.task_id: ti})

    def to_dict(self, workflow_id: str, run_id: str) -> dict[str, Any]:
        """The CR form; `workflow_id` is the workflow id of its ARN (model.names.workflow_id), which
        names the task instances' log streams as MWAA Serverless does."""
        tis = [ti.to_dict(task_instance_id(run_id, ti.task_id),
                          log_stream(workflow_id, run_id, ti.task_id, max(ti.attempt, 1))) for ti in self.tasks.values()]
        d = {"runState": self.run_state, "startedOn": format_ts(self.started_on), "completedOn": format_ts(self.completed_on),
             "duration": self.duration, "errorMessage": self.error_message, "taskInstances": tis}
        return {k: v for k, v in d.items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> RunStatus:
        d = d or {}
        tasks = {t["taskId"]: TaskInstance.from_dict(t) for t in d.get("taskInstances") or [] if "taskId" in t}
        return cls(run_state=d.get("runState") or RunState.STARTING, started_on=parse_ts(d.get("startedOn")),
                   completed_on=parse_ts(d.get("completedOn")), error_message=d.get("errorMessage"), tasks=tasks)


@dataclass(frozen=True)
class Outcome:
    """What the runner reports for an attempt (its termination message; see engine/outcome.py)."""

    state: str  # success | failed | up_for_retry | up_for_reschedule | skipped | timeout
    error: str | None = None
    reschedule_at: datetime | None = None
    retry: bool = True  # False: final whatever the retries left (AirflowFailException, sensor timeout)
    log_status: str | None = None  # what became of the attempt's log (the report's `logs.status`)
    log_reason: str | None = None


@dataclass(frozen=True)
class ObservedPod:
    name: str
    task_id: str
    attempt: int
    reschedule: int = 0
    phase: str = "Pending"  # Pending | Running | Succeeded | Failed | Unknown
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deleted: bool = False  # deletionTimestamp set
    deleted_at: datetime | None = None  # its deletionTimestamp
    ran: bool = False  # its container started (running or terminated with a start time)
    infra_retries: int = 0  # the task's infrastructure re-launches when this pod was made (its annotation)
    exit_code: int | None = None
    reason: str | None = None  # pod status reason (Evicted, DeadlineExceeded, ...) or container reason
    disruption: str | None = None  # DisruptionTarget condition reason (PreemptionByScheduler, DeletionByTaintManager...)
    outcome: Outcome | None = None  # the termination message's report
    reported: Outcome | None = None  # the report the runner sent through the task API before it exited


@dataclass(frozen=True)
class RunView:
    """What the engine needs to know about a WorkflowRun besides its pods."""

    name: str  # the WorkflowRun's name, which is also the run id
    workflow: str
    created_at: datetime
    status: RunStatus  # what the previous reconcile wrote (RunStatus.from_dict of the CR status)
    stop_requested: bool = False  # spec.stop
    admitted: bool = True  # a concurrency slot is granted (decided outside the engine)
    definition_error: str | None = None  # the pinned version is broken: the run FAILS with this
    namespace: str = ""
    version: str = ""
    run_type: str = "manual"  # manual | scheduled
    logical_date: datetime | None = None  # None: created_at (what the runner is given too)

    @property
    def effective_logical_date(self) -> datetime:
        return self.logical_date or self.created_at


@dataclass(frozen=True)
class EngineSettings:
    max_infra_retries: int = 3  # pods lost to the infrastructure per task, on top of its retries
    max_unseen_relaunches: int = 10  # pods of a task recorded but never seen (see TaskInstance)
    timeout_grace: timedelta = timedelta(seconds=30)  # the pod's own deadline fires first
    cleanup_delay: timedelta = timedelta(minutes=5)  # a finished run's pods (and logs) stay this long
    default_task_timeout: timedelta = timedelta(hours=1)  # the quota when a task sets none
    # A pod still Pending after this (unschedulable, image pull failing...) fails its attempt, as
    # Airflow's [scheduler] task_queued_timeout (600 s) fails a task stuck in queued.
    pending_timeout: timedelta = timedelta(minutes=10)
    default_poke_interval: timedelta = timedelta(seconds=60)  # a reschedule without reschedule_at
    stop_poll: timedelta = timedelta(seconds=2)  # how soon to look again while pods terminate
    # A FAILED or TIMEOUT run keeps its pods this long instead (None: cleanup_delay), for clusters
    # whose logs live only on the pods (the chart's logs.backend: none)
    failed_cleanup_delay: timedelta | None = None
    ship_logs: bool = False  # task pods ship their logs: an attempt that ends without a report is INCOMPLETE
    # A deleted pod that still shows a live phase this long after its deletionTimestamp is on a
    # node that no longer answers (terminationGracePeriodSeconds is 30): it counts as gone.
    deleted_pod_bound: timedelta = timedelta(seconds=90)
