"""The run state machine: (run, task graph, observed pods, now) -> (new status, actions). Pure.

One call looks at everything once and decides everything once; the handler applies the actions
and writes the status a single time. Calling it again with the same inputs gives the same
answer, and an attempt's pod name is a function of (run, task, attempt), so an operator that
restarts mid-run rebuilds its view from the status it wrote and the pods it finds, and never
starts an attempt twice.

Run states: STARTING -> QUEUED (no concurrency slot yet) -> RUNNING -> SUCCESS | FAILED, or
STOPPING -> STOPPED when asked to stop. The end state follows Airflow's rule for a DAG run: it
failed if any leaf task failed (or could not run because an upstream failed), else it succeeded.
TIMEOUT is reserved for a run-level deadline, which the MWAA Serverless definition format ignores
(dagrun_timeout), so runs do not end in it today; a task's own timeout is the task's TIMEOUT.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from updraft.definition.model import Task, TaskGraph
from updraft.engine import triggers
from updraft.engine.model import (EngineSettings, ObservedPod, Outcome, RunState, RunStatus, RunView, TaskInstance,
                                  TaskState)
from updraft.engine.outcome import classify
from updraft.podspec.naming import pod_name

WORKFLOW_FAILED = "Workflow execution failed"
MAX_RETRY_DELAY = timedelta(days=1)


@dataclass(frozen=True)
class CreatePod:
    task_id: str
    attempt: int
    reschedule: int
    pod_name: str


@dataclass(frozen=True)
class DeletePod:
    pod_name: str
    reason: str


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


Action = CreatePod | DeletePod | Event


@dataclass(frozen=True)
class Decision:
    status: RunStatus
    actions: tuple[Action, ...]
    requeue_at: datetime | None  # wake up then even if nothing is observed
    done: bool  # finished, and its pods are cleaned up: nothing more to do for this run


def retry_delay(task: Task, attempt: int, run_name: str) -> timedelta:
    """Airflow's next_retry_datetime delay: retry_delay, or exponential backoff with its
    deterministic per-attempt spread, capped by max_retry_delay."""
    delay = task.retry_delay
    if not task.retry_exponential_backoff:
        return delay
    try:
        min_backoff = max(1, math.ceil(delay.total_seconds() * (2 ** (attempt - 1))))
    except OverflowError:
        min_backoff = int(MAX_RETRY_DELAY.total_seconds())
    spread = int(hashlib.sha1(f"{run_name}#{task.task_id}#{attempt}".encode()).hexdigest(), 16) % min_backoff
    backoff = timedelta(seconds=min(min_backoff + spread, MAX_RETRY_DELAY.total_seconds()))
    return min(backoff, task.max_retry_delay) if task.max_retry_delay else backoff


class _Step:
    """Mutable scratch state of one reconcile; the result is frozen again."""

    def __init__(self, run: RunView, now: datetime) -> None:
        self.run, self.now = run, now
        self.status = run.status
        self.actions: list[Action] = []
        self.wakeups: list[datetime] = []

    def event(self, type_: str, reason: str, message: str) -> None:
        self.actions.append(Event(type_, reason, message))

    def set_run(self, state: str, error: str | None = None) -> None:
        if self.status.run_state == state:
            return
        changes: dict[str, object] = {"run_state": state}
        if state == RunState.RUNNING and self.status.started_on is None:
            changes["started_on"] = self.now
        if state in RunState.FINAL:
            changes["completed_on"] = self.now
            if self.status.started_on is None:
                changes["started_on"] = self.now
        if error is not None:
            changes["error_message"] = error
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self.event("Warning" if state in (RunState.FAILED, RunState.TIMEOUT) else "Normal",
                   f"Run{state.title()}", f"run is {state}" + (f": {error}" if error else ""))

    def set_task(self, ti: TaskInstance, **changes: object) -> TaskInstance:
        new = replace(ti, **changes)  # type: ignore[arg-type]
        self.status = self.status.with_task(new)
        if new.status != ti.status:
            warn = new.status in (TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.TIMEOUT, TaskState.UP_FOR_RETRY)
            detail = f" (attempt {new.attempt})" if new.attempt else ""
            err = f": {new.error}" if new.error and warn else ""
            self.event("Warning" if warn else "Normal", f"Task{new.status.title().replace('_', '')}",
                       f"task {new.task_id} is {new.status}{detail}{err}")
        return new

    def start_attempt(self, ti: TaskInstance, attempt: int, reschedule: int, infra_retries: int) -> None:
        name = pod_name(self.run.name, ti.task_id, attempt, reschedule)
        self.actions.append(CreatePod(ti.task_id, attempt, reschedule, name))
        self.set_task(ti, status=TaskState.QUEUED, attempt=attempt, reschedules=reschedule,
                      infra_retries=infra_retries, pod_name=name, next_attempt_at=None, ended_at=None,
                      started_at=None if reschedule == 0 else ti.started_at, error=None)


def reconcile(run: RunView, graph: TaskGraph | None, pods: Sequence[ObservedPod], now: datetime,
              settings: EngineSettings = EngineSettings()) -> Decision:
    s = _Step(run, now)
    by_name = {p.name: p for p in pods}
    alive = [p for p in pods if p.phase in ("Pending", "Running", "Unknown") and not p.deleted]

    if s.status.run_state in RunState.FINAL:
        return _finished(s, pods, settings)

    if graph is None or run.definition_error:
        for p in alive:
            s.actions.append(DeletePod(p.name, "the run's definition is invalid"))
        s.set_run(RunState.FAILED, run.definition_error or "the workflow version could not be loaded")
        return _finished(s, pods, settings)

    for tid in graph.tasks:
        if tid not in s.status.tasks:
            s.status = s.status.with_task(TaskInstance(tid))

    if run.stop_requested or s.status.run_state == RunState.STOPPING:
        return _stop(s, alive, settings, pods)

    if s.status.run_state in (RunState.STARTING, RunState.QUEUED):
        if not run.admitted:
            s.set_run(RunState.QUEUED)
            return Decision(s.status, tuple(s.actions), None, False)
        s.set_run(RunState.RUNNING)

    _observe(s, graph, by_name, settings)
    _schedule(s, graph)
    _finish_if_complete(s, graph)
    if s.status.run_state in RunState.FINAL:
        return _finished(s, pods, settings)
    return Decision(s.status, tuple(s.actions), min(s.wakeups, default=None), False)


def _observe(s: _Step, graph: TaskGraph, by_name: dict[str, ObservedPod], settings: EngineSettings) -> None:
    """Fold what the pods show into the task instances."""
    for tid, task in graph.tasks.items():
        ti = s.status.tasks[tid]
        if ti.status not in TaskState.ACTIVE or ti.pod_name is None:
            continue
        pod = by_name.get(ti.pod_name)
        if pod is None:
            _infra(s, task, ti, "its pod disappeared", settings)
            continue
        result = classify(pod)
        if result.kind == "pending":
            continue
        if result.kind == "running":
            if ti.status != TaskState.RUNNING or ti.started_at is None:
                ti = s.set_task(ti, status=TaskState.RUNNING, started_at=ti.started_at or pod.started_at or s.now)
            _enforce_timeout(s, task, ti, settings)
            continue
        if result.kind == "infra":
            _infra(s, task, ti, result.reason or "infrastructure failure", settings)
            continue
        assert result.outcome is not None
        _apply_outcome(s, task, ti, result.outcome, pod.finished_at or s.now, pod.started_at)


def _enforce_timeout(s: _Step, task: Task, ti: TaskInstance, settings: EngineSettings) -> None:
    limit = task.execution_timeout or settings.default_task_timeout
    started = ti.started_at or s.now
    deadline = started + limit + settings.timeout_grace
    if s.now >= deadline:
        assert ti.pod_name is not None
        s.actions.append(DeletePod(ti.pod_name, f"execution_timeout of {limit.total_seconds():g}s exceeded"))
        _apply_outcome(s, task, ti, Outcome("timeout", f"the task exceeded its execution_timeout ({limit.total_seconds():g}s)"),
                       s.now, None)
    else:
        s.wakeups.append(deadline)


def _infra(s: _Step, task: Task, ti: TaskInstance, reason: str, settings: EngineSettings) -> None:
    if ti.infra_retries >= settings.max_infra_retries:
        s.set_task(ti, status=TaskState.FAILED, ended_at=s.now,
                   error=f"infrastructure failure ({reason}) after {ti.infra_retries} re-launches")
        return
    s.event("Warning", "TaskInfrastructureRetry", f"task {ti.task_id} attempt {ti.attempt}: {reason}; re-launching")
    # same try number, next reschedule slot: a new pod that does not spend a user retry
    s.start_attempt(ti, ti.attempt, ti.reschedules + 1, ti.infra_retries + 1)


def _apply_outcome(s: _Step, task: Task, ti: TaskInstance, outcome: Outcome, ended: datetime,
                   started: datetime | None) -> None:
    started_at = ti.started_at or started
    if outcome.state == "success":
        s.set_task(ti, status=TaskState.SUCCESS, ended_at=ended, started_at=started_at)
    elif outcome.state == "skipped":
        s.set_task(ti, status=TaskState.SKIPPED, ended_at=ended, started_at=started_at)
    elif outcome.state == "up_for_reschedule":
        when = outcome.reschedule_at or s.now + (task.poke_interval or timedelta(seconds=60))
        s.set_task(ti, status=TaskState.UP_FOR_RESCHEDULE, next_attempt_at=when, started_at=started_at)
        s.wakeups.append(when)
    else:  # failed, up_for_retry, timeout: the user's retries decide
        error = outcome.error or ("timed out" if outcome.state == "timeout" else "the task failed")
        if ti.attempt <= task.retries:
            when = ended + retry_delay(task, ti.attempt, s.run.name)
            s.set_task(ti, status=TaskState.UP_FOR_RETRY, ended_at=ended, started_at=started_at, error=error,
                       next_attempt_at=when)
            s.wakeups.append(when)
        else:
            final = TaskState.TIMEOUT if outcome.state == "timeout" else TaskState.FAILED
            s.set_task(ti, status=final, ended_at=ended, started_at=started_at, error=error)


def _schedule(s: _Step, graph: TaskGraph) -> None:
    """Start what may start, in topological order, so one pass settles cascades."""
    for tid, task in graph.tasks.items():
        ti = s.status.tasks[tid]
        if ti.status in TaskState.WAITING:
            assert ti.next_attempt_at is not None
            if ti.next_attempt_at <= s.now:
                if ti.status == TaskState.UP_FOR_RETRY:
                    s.start_attempt(ti, ti.attempt + 1, 0, ti.infra_retries)
                else:
                    s.start_attempt(ti, ti.attempt, ti.reschedules + 1, ti.infra_retries)
            else:
                s.wakeups.append(ti.next_attempt_at)
            continue
        if ti.status != TaskState.NONE:
            continue
        verdict = triggers.decide(task.trigger_rule, [s.status.tasks[u].status for u in task.upstream])
        if verdict == triggers.RUN:
            s.start_attempt(ti, 1, 0, 0)
        elif verdict == triggers.SKIP:
            s.set_task(ti, status=TaskState.SKIPPED, ended_at=s.now)
        elif verdict == triggers.UPSTREAM_FAILED:
            s.set_task(ti, status=TaskState.UPSTREAM_FAILED, ended_at=s.now)


def _finish_if_complete(s: _Step, graph: TaskGraph) -> None:
    states = {tid: s.status.tasks[tid].status for tid in graph.tasks}
    if not all(st in TaskState.FINAL for st in states.values()):
        return
    leaves = [tid for tid in graph.tasks if not graph.downstream(tid)]
    failed = any(states[t] not in (TaskState.SUCCESS, TaskState.SKIPPED) for t in leaves)
    if failed:
        s.set_run(RunState.FAILED, WORKFLOW_FAILED)
    else:
        s.set_run(RunState.SUCCESS)


def _stop(s: _Step, alive: list[ObservedPod], settings: EngineSettings, pods: Sequence[ObservedPod]) -> Decision:
    if s.status.run_state not in (RunState.STOPPING, *RunState.FINAL):
        s.set_run(RunState.STOPPING)
    for p in alive:
        s.actions.append(DeletePod(p.name, "the run was asked to stop"))
    for ti in list(s.status.tasks.values()):
        if ti.status not in TaskState.FINAL:
            s.set_task(ti, status=TaskState.CANCELLED, ended_at=ti.ended_at or s.now, next_attempt_at=None)
    if not alive:
        s.set_run(RunState.STOPPED)
        return _finished(s, pods, settings)
    return Decision(s.status, tuple(s.actions), s.now + timedelta(seconds=2), False)


def _finished(s: _Step, pods: Sequence[ObservedPod], settings: EngineSettings) -> Decision:
    """A finished run keeps its pods (and logs) for `cleanup_delay`, then deletes them."""
    completed = s.status.completed_on or s.now
    remaining = [p for p in pods if not p.deleted]
    already = {a.pod_name for a in s.actions if isinstance(a, DeletePod)}
    if not remaining:
        return Decision(s.status, tuple(s.actions), None, True)
    if s.now >= completed + settings.cleanup_delay:
        for p in remaining:
            if p.name not in already:
                s.actions.append(DeletePod(p.name, "the run finished; cleaning up"))
        return Decision(s.status, tuple(s.actions), s.now + timedelta(seconds=5), False)
    return Decision(s.status, tuple(s.actions), completed + settings.cleanup_delay, False)
