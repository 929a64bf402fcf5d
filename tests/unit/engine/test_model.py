"""The run status in its CR form: round trip, names, the API's task states."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from updraft.engine import RunStatus, TaskInstance
from updraft.model.names import log_stream, task_instance_id
from updraft.model.states import RunState, TaskState

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_status_round_trips_through_the_cr_form() -> None:
    status = RunStatus(RunState.RUNNING, started_on=T0, tasks={
        "a": TaskInstance("a", TaskState.SUCCESS, 1, pod_name="p-a-1", started_at=T0, ended_at=T0 + timedelta(seconds=9)),
        "b": TaskInstance("b", TaskState.UP_FOR_RETRY, 2, reschedules=1, infra_retries=1, pod_name="p-b-2-r1",
                          started_at=T0, ended_at=T0, next_attempt_at=T0 + timedelta(minutes=5), error="boom"),
        "c": TaskInstance("c"),
    })
    d = status.to_dict("wf", "run-1")
    assert RunStatus.from_dict(d) == status
    b = next(t for t in d["taskInstances"] if t["taskId"] == "b")
    assert b == {"taskInstanceId": "run-1.b", "taskId": "b", "attemptNumber": 2, "status": "UP_FOR_RETRY",
                 "startedAt": "2026-01-01T12:00:00Z", "endedAt": "2026-01-01T12:00:00Z", "podName": "p-b-2-r1",
                 "errorMessage": "boom", "logStream": "workflow_id=wf/run_id=run-1/task_id=b/attempt=2.log",
                 "rescheduleCount": 1, "infraRetries": 1, "nextAttemptAt": "2026-01-01T12:05:00Z"}
    assert d["runState"] == "RUNNING" and d["startedOn"] == "2026-01-01T12:00:00Z" and "duration" not in d


def test_duration_and_empty_status() -> None:
    done = RunStatus(RunState.SUCCESS, started_on=T0, completed_on=T0 + timedelta(seconds=95))
    assert done.to_dict("wf", "r")["duration"] == 95
    assert RunStatus.from_dict(None) == RunStatus() and RunStatus().run_state == RunState.STARTING


def test_names() -> None:
    assert log_stream("wf", "r", "t", 3) == "workflow_id=wf/run_id=r/task_id=t/attempt=3.log"
    assert task_instance_id("r", "t") == "r.t"


def test_skipped_is_reported_to_the_api_as_none() -> None:
    assert TaskState.to_api(TaskState.SKIPPED) == "NONE"
    assert TaskState.to_api(TaskState.UPSTREAM_FAILED) == "UPSTREAM_FAILED"
