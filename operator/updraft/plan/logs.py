"""Where a workflow's task logs go and where to read one attempt's log back (pure).

Writing: with the chart's `logs.backend: cloudwatch`, every attempt's runner ships its log to the
workflow's group (`effective_log_group`): `spec.logging.logGroupName` (the user's, never created
by Updraft) or the default `/aws/mwaa-serverless/<workflow id>/` the operator creates.

Reading (`choose_log_source`, the one rule the API endpoint, the CLI and any UI use): the pod's log
while the attempt runs, CloudWatch afterwards, the pod again when CloudWatch has nothing, and
always which one and why, so nobody mistakes a pod's partial log for the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from updraft.model import names
from updraft.model.states import LogBackend, LogStatus, TaskState
from updraft.plan.workflow import condition

CONDITION_LOGGING_READY = "LoggingReady"
POD, CLOUDWATCH, NONE = "pod", "cloudwatch", "none"


def user_log_group(spec: Mapping[str, Any]) -> str | None:
    """The group `spec.logging.logGroupName` names, if any."""
    return ((spec.get("logging") or {}).get("logGroupName") or None) if isinstance(spec.get("logging"), dict) else None


def effective_log_group(spec: Mapping[str, Any], workflow_id: str, backend: str) -> str | None:
    """The group task logs go to; None when they are not shipped (backend none)."""
    if backend != LogBackend.CLOUDWATCH:
        return None
    return user_log_group(spec) or names.default_log_group(workflow_id)


def logging_condition(ok: bool, reason: str, message: str, now: datetime, generation: int,
                      previous: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The workflow's conditions with LoggingReady set (the others kept as they are)."""
    new = condition(CONDITION_LOGGING_READY, ok, reason, message, now, generation, tuple(previous))
    return [dict(c) for c in previous if c.get("type") != CONDITION_LOGGING_READY] + [new]


@dataclass(frozen=True)
class LogSource:
    source: str  # POD | CLOUDWATCH | NONE
    reason: str  # said to the reader, always
    complete: bool = False  # the source holds the attempt's whole log (so far, for a live pod)


def choose_log_source(*, backend: str, task_status: str | None, latest_attempt: int, attempt: int,
                      log_status: str | None, log_reason: str | None, pod_exists: bool,
                      group: str | None) -> LogSource:
    """Which source holds attempt `attempt` of a task whose latest attempt is `latest_attempt`
    (status `task_status`, `log_status` its log's fate) and whether a pod of it still exists."""
    if attempt < 1 or attempt > max(latest_attempt, 0) or (attempt == latest_attempt and task_status in (
            None, TaskState.NONE, TaskState.SCHEDULED)):
        return LogSource(NONE, f"attempt {attempt} has not started")
    latest = attempt == latest_attempt
    running = latest and task_status in TaskState.ACTIVE
    shipping = backend == LogBackend.CLOUDWATCH and group is not None
    if running and pod_exists:
        return LogSource(POD, "the attempt is running: its pod's log, live", True)
    if shipping and (not latest or running or log_status in LogStatus.SOME_SHIPPED or log_status is None):
        if not latest:
            return LogSource(CLOUDWATCH, f"an earlier attempt: its stream in CloudWatch Logs ({group})", True)
        if running:
            return LogSource(CLOUDWATCH, "the attempt is running and its pod is not readable: what it shipped so far")
        if log_status == LogStatus.SHIPPED:
            return LogSource(CLOUDWATCH, f"CloudWatch Logs ({group}): every line was shipped", True)
        why = log_reason or ("its pod has not yet said what became of it: the runner ships its log after "
                             "reporting its outcome" if log_status is None else log_status)
        if pod_exists:
            return LogSource(POD, f"CloudWatch Logs holds only part of this log ({why}): its pod's log, kept "
                                  "until the pod is deleted", True)
        return LogSource(CLOUDWATCH, f"CloudWatch Logs ({group}), incomplete: {why}")
    if pod_exists:
        why = (f"shipping failed ({log_reason or 'no reason given'})" if shipping
               else "logs are not shipped on this cluster (logs.backend: none)")
        return LogSource(POD, f"{why}: its pod's log, kept until the pod is deleted", True)
    if shipping:
        return LogSource(NONE, f"shipping failed ({log_reason or 'no reason given'}) and the pod is gone")
    return LogSource(NONE, "logs are kept only while the pod exists (logs.backend: none), and it is gone")
