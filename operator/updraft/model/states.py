"""Run and task states, and the sets every layer asks about (pure).

Run states are the API model's WorkflowRunStatus; task states its TaskInstanceStatus, plus SKIPPED
(see `TaskState`)."""

from __future__ import annotations


class RunState:
    STARTING, QUEUED, RUNNING = "STARTING", "QUEUED", "RUNNING"
    SUCCESS, FAILED, TIMEOUT = "SUCCESS", "FAILED", "TIMEOUT"
    STOPPING, STOPPED = "STOPPING", "STOPPED"
    FINAL = frozenset({SUCCESS, FAILED, TIMEOUT, STOPPED})
    # a run holds a concurrency slot from its admission until it ends
    HOLDING = frozenset({RUNNING, STOPPING})
    # not admitted yet ("" is a run no operator has looked at)
    WAITING = frozenset({STARTING, QUEUED, ""})


class TaskState:
    """The API model's TaskInstanceStatus values, plus SKIPPED.

    Airflow has a `skipped` state (a trigger rule or the task itself decided it does not run) that
    the MWAA Serverless API enum lacks. The WorkflowRun status keeps SKIPPED (the CRD allows it,
    and trigger rules downstream need to tell it from "not started"); the API reports it as NONE
    (`to_api`), the enum's "no state to report", never as SUCCESS or FAILED, which would lie.
    """

    NONE, QUEUED, SCHEDULED, RUNNING = "NONE", "QUEUED", "SCHEDULED", "RUNNING"
    SUCCESS, FAILED, UPSTREAM_FAILED = "SUCCESS", "FAILED", "UPSTREAM_FAILED"
    UP_FOR_RETRY, UP_FOR_RESCHEDULE = "UP_FOR_RETRY", "UP_FOR_RESCHEDULE"
    CANCELLED, TIMEOUT, SKIPPED = "CANCELLED", "TIMEOUT", "SKIPPED"
    FINAL = frozenset({SUCCESS, FAILED, UPSTREAM_FAILED, CANCELLED, TIMEOUT, SKIPPED})
    ACTIVE = frozenset({QUEUED, RUNNING})  # a pod exists (or is being made) for the attempt
    WAITING = frozenset({UP_FOR_RETRY, UP_FOR_RESCHEDULE})
    # what the API model's TaskInstanceStatus enum holds
    API = frozenset({"QUEUED", "FAILED", "SCHEDULED", "RUNNING", "SUCCESS", "UP_FOR_RESCHEDULE", "UP_FOR_RETRY",
                     "UPSTREAM_FAILED", "REMOVED", "RESTARTING", "DEFERRED", "NONE", "CANCELLED", "TIMEOUT"})

    @staticmethod
    def to_api(state: str | None) -> str:
        """The API model's TaskInstanceStatus for a state of the run status (NONE when it has none)."""
        return state if state in TaskState.API else TaskState.NONE


class WorkflowState:
    READY, DELETING = "READY", "DELETING"


class TriggerMode:
    SCHEDULED, MANUAL_ONLY, DISABLED = "scheduled", "manual_only", "disabled"
    ALL = (SCHEDULED, MANUAL_ONLY, DISABLED)


class LogStatus:
    """What became of a task attempt's log (`logStatus` of a task instance).

    SHIPPED: every line reached CloudWatch Logs; PARTIAL: some did (the reason says what was
    lost); FAILED: none did (the reason says why); INCOMPLETE: the attempt ended without the
    runner's report (killed: OOM, deadline, node loss), the stream holds what was sent until then.
    A task instance without one ran with shipping off (the chart's `logs.backend: none`)."""

    SHIPPED, PARTIAL, FAILED, INCOMPLETE = "SHIPPED", "PARTIAL", "FAILED", "INCOMPLETE"
    REPORTED = frozenset({SHIPPED, PARTIAL, FAILED})  # what a runner may report
    SOME_SHIPPED = frozenset({SHIPPED, PARTIAL, INCOMPLETE})  # the stream may hold lines


class LogBackend:
    """Where task logs go (the chart's `logs.backend`)."""

    CLOUDWATCH, NONE = "cloudwatch", "none"
    ALL = (CLOUDWATCH, NONE)
