"""The run state machine: (run, task graph, observed pods, now) -> Decision. Pure.

One call looks at everything once and decides everything once; the handler writes
`Decision.status` first, then applies the actions in order (create pods, delete pods, post events).

Idempotency and adoption. The same inputs give the same Decision. A pod's name is a function
of (run, task, attempt, re-launch index), and the engine never asks for a pod it can see. The
handler writes the status *before* it applies the actions (handlers/runs.py), so every pod name
is recorded before the pod can exist, and every fact the engine learns (an outcome, a timeout)
is recorded before the pod that showed it is deleted. An operator that restarts mid-run rebuilds
its view from the status it wrote and the pods it finds: a pod newer than what the status knows
for its task (a status write was lost) is adopted as the task's current attempt instead of being
started again. A name is never created twice: a task whose recorded pod is gone (the handler
confirms with a direct read that the pod list did not just miss it) gets a new pod under the
next name (a pod that finished and vanished unseen would otherwise run its attempt a second time
under the same name), counted against EngineSettings.max_infra_retries when the pod had been
seen running, else against max_unseen_relaunches (the operator's own crash between recording a
pod and creating it lands there too). A RUNNING task whose pod is gone
after its execution deadline timed out (the deletion was the operator's own; its record was
lost). A deleted pod whose container may still run is waited for (at most
`deleted_pod_bound`) before its task is re-launched.

Clean-up as the run goes: pods of superseded attempts and sensor pokes are deleted once their
outcome is recorded, and an attempt's task-API token Secret (DeleteToken) as soon as the
attempt ends; the latest pod of each task stays, for its logs, until the run's clean-up. A pod
whose runner reported its outcome through the task API (engine/outcome.py, "The early report")
ends its attempt while it still runs, for a moment: it is left to exit on its own.

Run states. STARTING -> QUEUED (no concurrency slot yet) -> RUNNING -> SUCCESS | FAILED, or
STOPPING -> STOPPED when asked to stop. The end state follows Airflow's DagRun.update_state
(airflow/models/dagrun.py, 3.0.6): once every task is finished, the run FAILED if any leaf task
is in a failed state (FAILED, UPSTREAM_FAILED, and our TIMEOUT / CANCELLED), else it succeeded
(leaves SUCCESS or SKIPPED). So a failure absorbed by an `all_done` leaf ends in SUCCESS, as in
Airflow. TIMEOUT is a run-level deadline (Airflow's dagrun_timeout); MWAA Serverless ignores
dagrun_timeout, so no run ends in TIMEOUT today: a task's timeout is the task's TIMEOUT, and
the run then FAILS like any other task failure ("Workflow execution failed").

Task attempts. Attempt N that fails (the runner's failed / up_for_retry / timeout, a non-zero
exit, the pod's deadline, a pod stuck Pending past pending_timeout, or the engine's own
execution_timeout clock) becomes UP_FOR_RETRY while N <= retries, with the next attempt at
end + retry_delay (engine/retry.py), else FAILED (TIMEOUT when it timed out). A sensor's
up_for_reschedule keeps attempt N and starts a new pod (reschedule index + 1) at reschedule_at.
An infrastructure failure (engine/outcome.py) also starts a new pod of the same attempt and
spends EngineSettings.max_infra_retries, not the user's retries. The reschedule index is thus
"the n-th pod of this attempt", whatever the reason for the re-launch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from updraft.definition.model import Task, TaskGraph
from updraft.engine import logfate, triggers
from updraft.engine.model import EngineSettings, ObservedPod, Outcome, RunStatus, RunView, TaskInstance
from updraft.model.states import RunState, TaskState
from updraft.engine.outcome import DONE, INFRA, PENDING, RUNNING, classify_pod
from updraft.engine.retry import retry_delay
from updraft.model.names import pod_name

WORKFLOW_FAILED = "Workflow execution failed"
ALIVE_PHASES = ("Pending", "Running", "Unknown")


@dataclass(frozen=True)
class CreatePod:
    """Create the pod of this attempt (podspec.build_pod with these numbers); AlreadyExists is success."""

    task_id: str
    attempt: int
    reschedule: int
    pod_name: str


@dataclass(frozen=True)
class DeletePod:
    """Delete this pod (NotFound is success)."""

    pod_name: str
    reason: str


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event on the WorkflowRun: one per run state change and task state change."""

    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class DeleteToken:
    """Delete the task-API token Secret of this pod's attempt (NotFound is success)."""

    pod_name: str


Action = CreatePod | DeletePod | DeleteToken | Event


@dataclass(frozen=True)
class Decision:
    status: RunStatus  # write it to the CR (status.to_dict) once
    actions: tuple[Action, ...]  # apply in order
    requeue_at: datetime | None  # the earliest timer: call reconcile again then even if nothing changes
    done: bool  # finished and cleaned up: nothing more to do for this run, ever

    @property
    def cleanup_at(self) -> datetime | None:
        """When a finished run's pods are (or were) due for deletion; None while it runs."""
        return self.requeue_at if self.status.run_state in RunState.FINAL and not self.done else None


class _Step:
    """Mutable scratch state of one reconcile; the result is frozen again."""

    def __init__(self, run: RunView, graph: TaskGraph | None, pods: Sequence[ObservedPod], now: datetime,
                 settings: EngineSettings) -> None:
        self.run, self.graph, self.now, self.settings = run, graph, now, settings
        self.pods = list(pods)
        self.by_name = {p.name: p for p in pods}
        self.status = run.status
        self.actions: list[Action] = []
        self.wakeups: list[datetime] = []

    def event(self, type_: str, reason: str, message: str) -> None:
        self.actions.append(Event(type_, reason, message))

    def delete(self, name: str, reason: str) -> None:
        """Delete a pod, its token first (a crash in between leaves the pod, so both are asked again)."""
        self.delete_token(name)
        if not any(isinstance(a, DeletePod) and a.pod_name == name for a in self.actions):
            self.actions.append(DeletePod(name, reason))

    def delete_token(self, pod: str) -> None:
        if DeleteToken(pod) not in self.actions:
            self.actions.append(DeleteToken(pod))

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
        if ti.pod_name and ti.status in TaskState.ACTIVE and (new.status not in TaskState.ACTIVE
                                                               or new.pod_name != ti.pod_name):
            self.delete_token(ti.pod_name)  # the attempt (or this pod of it) has ended
        if new.status != ti.status:
            warn = new.status in (TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.TIMEOUT, TaskState.UP_FOR_RETRY)
            detail = f" (attempt {new.attempt})" if new.attempt else ""
            err = f": {new.error}" if new.error and warn else ""
            self.event("Warning" if warn else "Normal", f"Task{new.status.title().replace('_', '')}",
                       f"task {new.task_id} is {new.status}{detail}{err}")
        return new

    def start_attempt(self, ti: TaskInstance, attempt: int, reschedule: int, infra_retries: int) -> TaskInstance:
        name = pod_name(self.run.name, ti.task_id, attempt, reschedule)
        if name not in self.by_name:  # never ask for a pod that exists
            self.actions.append(CreatePod(ti.task_id, attempt, reschedule, name))
        else:
            self.wakeups.append(self.now)  # adopt it: look at it on the next pass
        return self.set_task(ti, status=TaskState.QUEUED, attempt=attempt, reschedules=reschedule,
                             infra_retries=infra_retries, pod_name=name, next_attempt_at=None, ended_at=None,
                             started_at=None if reschedule == 0 else ti.started_at, error=None,
                             log_status=None, log_reason=None)

    def decision(self, done: bool = False, requeue_at: datetime | None = None) -> Decision:
        when = requeue_at if requeue_at is not None else min(self.wakeups, default=None)
        return Decision(self.status, tuple(self.actions), when, done)


def reconcile(run: RunView, graph: TaskGraph | None, pods: Sequence[ObservedPod], now: datetime,
              settings: EngineSettings = EngineSettings()) -> Decision:
    """Decide the next status and actions of a run. `graph` None (or `run.definition_error`) means
    the pinned version cannot be used: the run fails with that error. `pods` are all pods of the
    run (any attempt), read consistently from the API server."""
    s = _Step(run, graph, pods, now, settings)
    if s.status.run_state in RunState.FINAL:
        return _finished(s)

    if graph is None or run.definition_error:
        for p in _alive(pods, now, settings):
            s.delete(p.name, "the run's definition is invalid")
        s.set_run(RunState.FAILED, run.definition_error or "the workflow version could not be loaded")
        return _finished(s)

    for tid in graph.tasks:
        if tid not in s.status.tasks:
            s.status = s.status.with_task(TaskInstance(tid))

    if run.stop_requested or s.status.run_state == RunState.STOPPING:
        return _stop(s, graph)

    if s.status.run_state in (RunState.STARTING, RunState.QUEUED):
        if not run.admitted:
            s.set_run(RunState.QUEUED)
            return s.decision()
        s.set_run(RunState.RUNNING)

    _adopt(s, graph)
    _observe(s, graph)
    _settle_logs(s)
    _schedule(s, graph)
    _finish_if_complete(s, graph)
    if s.status.run_state in RunState.FINAL:
        return _finished(s)
    _sweep(s)
    return s.decision()


def _sweep(s: _Step) -> None:
    """Delete what the status no longer needs: pods of superseded attempts and sensor pokes (their
    outcome is recorded), and a task's latest pod that still runs although its attempt ended (a
    timeout whose delete was lost). The latest pod of each task stays until the run's clean-up."""
    for p in s.pods:
        if p.deleted:
            continue
        ti = s.status.tasks.get(p.task_id)
        if ti is None or ti.pod_name != p.name:
            s.delete(p.name, "superseded: its outcome is recorded")
        elif ti.status not in TaskState.ACTIVE and p.phase in ALIVE_PHASES and p.reported is None:
            s.delete(p.name, "its attempt has ended")  # not a runner that reported and is exiting


def _alive(pods: Sequence[ObservedPod], now: datetime, settings: EngineSettings) -> list[ObservedPod]:
    """Pods whose containers may still run. A deleted pod runs until it terminates; one on an
    unreachable node never reports again: it counts as gone when its phase is Unknown, or when it
    still shows a live phase `deleted_pod_bound` after its deletion (a stop never waits for ever)."""
    return [p for p in pods if p.phase in ALIVE_PHASES and not (p.deleted and p.phase == "Unknown")
            and not (p.deleted and p.deleted_at is not None and now >= p.deleted_at + settings.deleted_pod_bound)]


def _adopt(s: _Step, graph: TaskGraph) -> None:
    """Take a pod newer than the status knows (its status patch was lost) as the task's attempt."""
    latest: dict[str, ObservedPod] = {}
    for p in s.pods:
        if p.task_id in graph.tasks and (p.task_id not in latest
                                         or (p.attempt, p.reschedule) > (latest[p.task_id].attempt,
                                                                         latest[p.task_id].reschedule)):
            latest[p.task_id] = p
    for tid, p in latest.items():
        ti = s.status.tasks[tid]
        if (p.attempt, p.reschedule) > (ti.attempt, ti.reschedules):
            s.event("Normal", "TaskAdopted", f"task {tid}: adopting pod {p.name} (attempt {p.attempt})")
            s.set_task(ti, status=TaskState.QUEUED, attempt=p.attempt, reschedules=p.reschedule, pod_name=p.name,
                       next_attempt_at=None, ended_at=None, error=None,
                       infra_retries=max(ti.infra_retries, p.infra_retries),
                       started_at=ti.started_at if p.reschedule else None)


def _observe(s: _Step, graph: TaskGraph) -> None:
    """Fold what the pods show into the task instances."""
    for tid, task in graph.tasks.items():
        ti = s.status.tasks[tid]
        if ti.status not in TaskState.ACTIVE or ti.pod_name is None:
            continue
        pod = s.by_name.get(ti.pod_name)
        if pod is None:  # recorded, and confirmed gone: never the same name again
            if ti.status == TaskState.RUNNING:
                _lost(s, task, ti, "its pod disappeared")
            else:
                _unseen(s, ti)
            continue
        result = classify_pod(pod)
        if result.kind == PENDING:
            _enforce_pending(s, task, ti, pod)
        elif result.kind == RUNNING:
            if ti.status != TaskState.RUNNING or ti.started_at is None:
                ti = s.set_task(ti, status=TaskState.RUNNING, started_at=ti.started_at or pod.started_at or s.now)
            _enforce_timeout(s, task, ti, pod)
        elif result.kind == INFRA:
            if pod.deleted and pod.phase in ALIVE_PHASES and pod.ran and pod.deleted_at is not None \
                    and s.now < pod.deleted_at + s.settings.deleted_pod_bound:
                s.wakeups.append(min(s.now + s.settings.stop_poll, pod.deleted_at + s.settings.deleted_pod_bound))
                continue  # its container may still run: no second copy of the attempt until it ends
            _lost(s, task, ti, result.reason or "infrastructure failure")
        else:
            assert result.kind == DONE and result.outcome is not None
            _apply_outcome(s, task, ti, result.outcome, pod.finished_at or s.now, pod.started_at, pod)


def _enforce_pending(s: _Step, task: Task, ti: TaskInstance, pod: ObservedPod) -> None:
    if pod.created_at is None:
        return
    deadline = pod.created_at + s.settings.pending_timeout
    if s.now < deadline:
        s.wakeups.append(deadline)
        return
    # not the task's doing (image pull, scheduling, a quota): the infrastructure's, as Airflow's
    # task_queued_timeout re-queues the task without spending a try
    limit = s.settings.pending_timeout.total_seconds()
    s.delete(pod.name, f"still Pending after {limit:g}s")
    _infra(s, ti, f"its pod did not start within {limit:g}s" + (f" ({pod.reason})" if pod.reason else ""))


def _enforce_timeout(s: _Step, task: Task, ti: TaskInstance, pod: ObservedPod) -> None:
    """execution_timeout on the engine's clock, per pod (a sensor's pokes are separate executions,
    as in Airflow); the pod's activeDeadlineSeconds normally fires first."""
    limit = task.execution_timeout or s.settings.default_task_timeout
    started = pod.started_at or pod.created_at or ti.started_at or s.now
    deadline = started + limit + s.settings.timeout_grace
    if s.now < deadline:
        s.wakeups.append(deadline)
        return
    s.delete(pod.name, f"execution_timeout of {limit.total_seconds():g}s exceeded")
    _apply_outcome(s, task, ti, Outcome("timeout", f"the task exceeded its execution_timeout ({limit.total_seconds():g}s)"),
                   s.now, None)


def _lost(s: _Step, task: Task, ti: TaskInstance, reason: str) -> None:
    """The task's pod is gone or failed for the infrastructure. Past the first pod's execution
    deadline it timed out (the operator deleted it and the record was lost); else re-launch."""
    limit = task.execution_timeout or s.settings.default_task_timeout
    if (ti.status == TaskState.RUNNING and ti.reschedules == 0 and ti.started_at is not None
            and s.now >= ti.started_at + limit + s.settings.timeout_grace):
        _apply_outcome(s, task, ti, Outcome("timeout", f"the task exceeded its execution_timeout "
                                                       f"({limit.total_seconds():g}s)"), s.now, None)
        return
    _infra(s, ti, reason)


def _unseen(s: _Step, ti: TaskInstance) -> None:
    """A recorded pod never seen: not created (the operator died between recording and creating
    it) or removed before it started. A new name, so an attempt that did run is never run again
    under its old name; bounded apart from infra_retries, since the operator's own crashes land
    here too."""
    if ti.unseen_relaunches >= s.settings.max_unseen_relaunches:
        s.set_task(ti, status=TaskState.FAILED, ended_at=s.now,
                   error=f"its pod disappeared before it started, {ti.unseen_relaunches + 1} times")
        return
    s.event("Warning", "TaskInfrastructureRetry",
            f"task {ti.task_id} attempt {ti.attempt}: pod {ti.pod_name} not found; re-launching")
    ti = s.set_task(ti, unseen_relaunches=ti.unseen_relaunches + 1)
    s.start_attempt(ti, ti.attempt, ti.reschedules + 1, ti.infra_retries)


def _infra(s: _Step, ti: TaskInstance, reason: str) -> None:
    if ti.infra_retries >= s.settings.max_infra_retries:
        s.set_task(ti, status=TaskState.FAILED, ended_at=s.now,
                   error=f"infrastructure failure ({reason}) after {ti.infra_retries} re-launches")
        return
    s.event("Warning", "TaskInfrastructureRetry", f"task {ti.task_id} attempt {ti.attempt}: {reason}; re-launching")
    s.start_attempt(ti, ti.attempt, ti.reschedules + 1, ti.infra_retries + 1)


def _apply_outcome(s: _Step, task: Task, ti: TaskInstance, outcome: Outcome, ended: datetime,
                   started: datetime | None, pod: ObservedPod | None = None) -> None:
    started_at = ti.started_at or started
    if started_at is None and pod is not None and pod.reported is not None:
        # a task of a second can report before the kubelet writes its pod's status: it ran, and
        # its creation is the best start we know (the duration and the API need one)
        started_at = pod.created_at
    ti = logfate.fate(ti, outcome, pod, shipping=s.settings.ship_logs, ran=started is not None)
    if outcome.state == "success":
        s.set_task(ti, status=TaskState.SUCCESS, ended_at=ended, started_at=started_at)
    elif outcome.state == "skipped":
        s.set_task(ti, status=TaskState.SKIPPED, ended_at=ended, started_at=started_at)
    elif outcome.state == "up_for_reschedule":
        when = outcome.reschedule_at or s.now + (task.poke_interval or s.settings.default_poke_interval)
        s.set_task(ti, status=TaskState.UP_FOR_RESCHEDULE, next_attempt_at=when, started_at=started_at)
        s.wakeups.append(when)
    else:  # failed, up_for_retry, timeout: the user's retries decide
        error = outcome.error or ("timed out" if outcome.state == "timeout" else "the task failed")
        if ti.attempt <= task.retries and outcome.retry:
            when = ended + retry_delay(task, ti.attempt, s.graph.dag_id if s.graph else s.run.workflow,
                                       s.run.effective_logical_date)
            s.set_task(ti, status=TaskState.UP_FOR_RETRY, ended_at=ended, started_at=started_at, error=error,
                       next_attempt_at=when)
            s.wakeups.append(when)
        else:
            final = TaskState.TIMEOUT if outcome.state == "timeout" else TaskState.FAILED
            s.set_task(ti, status=final, ended_at=ended, started_at=started_at, error=error)


def _settle_logs(s: _Step, cleaning: bool = False) -> None:
    """The log's fate of attempts that ended on their runner's early report, once their pod's
    termination message says it (engine/logfate.py)."""
    if not s.settings.ship_logs:
        return
    for ti in list(s.status.tasks.values()):
        pod = s.by_name.get(ti.pod_name or "")
        if ti.log_status is not None or ti.status in TaskState.ACTIVE or pod is None or pod.reported is None:
            continue
        settled = logfate.fate(ti, pod.reported, pod, shipping=True, ran=True, cleaning=cleaning)
        if settled.log_status is not None:
            s.set_task(ti, log_status=settled.log_status, log_reason=settled.log_reason)


def _schedule(s: _Step, graph: TaskGraph) -> None:
    """Start what may start, in topological order (graph.tasks is), so one pass settles cascades."""
    for tid, task in graph.tasks.items():
        ti = s.status.tasks[tid]
        if ti.status in TaskState.WAITING:
            when = ti.next_attempt_at or s.now
            if when > s.now:
                s.wakeups.append(when)
            elif ti.status == TaskState.UP_FOR_RETRY:
                s.start_attempt(ti, ti.attempt + 1, 0, ti.infra_retries)
            else:
                s.start_attempt(ti, ti.attempt, ti.reschedules + 1, ti.infra_retries)
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
    if any(states[t] not in (TaskState.SUCCESS, TaskState.SKIPPED) for t in leaves):
        s.set_run(RunState.FAILED, WORKFLOW_FAILED)
    else:
        s.set_run(RunState.SUCCESS)


def _stop(s: _Step, graph: TaskGraph) -> Decision:
    """STOPPING: no new pods; delete the live ones; what finished before the stop keeps its
    result, everything else is CANCELLED; STOPPED once no pod can still be running."""
    s.set_run(RunState.STOPPING)
    for tid in graph.tasks:
        ti = s.status.tasks[tid]
        pod = s.by_name.get(ti.pod_name) if ti.pod_name and ti.status in TaskState.ACTIVE else None
        result = classify_pod(pod) if pod is not None else None
        if pod is not None and result is not None and result.kind == DONE and result.outcome is not None:
            _apply_outcome(s, graph.tasks[tid], ti, result.outcome, pod.finished_at or s.now, pod.started_at, pod)
    for ti in list(s.status.tasks.values()):
        if ti.status not in TaskState.FINAL:
            s.set_task(ti, status=TaskState.CANCELLED, ended_at=ti.ended_at or s.now, next_attempt_at=None)
    alive = _alive(s.pods, s.now, s.settings)
    for p in alive:
        if not p.deleted:
            s.delete(p.name, "the run was asked to stop")
    if not alive:
        s.set_run(RunState.STOPPED)
        return _finished(s)
    return s.decision(requeue_at=s.now + s.settings.stop_poll)


def _finished(s: _Step) -> Decision:
    """A finished run keeps its pods (and their logs) for `cleanup_delay`, then deletes them."""
    completed = s.status.completed_on or s.now
    _settle_logs(s)
    _sweep(s)
    remaining = [p for p in s.pods if not p.deleted]
    if not remaining:
        return s.decision(done=True)
    delay = s.settings.cleanup_delay
    if s.status.run_state in (RunState.FAILED, RunState.TIMEOUT) and s.settings.failed_cleanup_delay is not None:
        delay = s.settings.failed_cleanup_delay
    due = completed + delay
    if s.now < due:
        return s.decision(requeue_at=due)
    _settle_logs(s, cleaning=True)  # the record before the act: the pods go now
    for ti in s.status.tasks.values():  # a token whose delete was lost in a crash
        if ti.pod_name:
            s.delete_token(ti.pod_name)
    for p in remaining:
        s.delete(p.name, "the run finished; cleaning up")
    return s.decision(requeue_at=s.now + timedelta(seconds=5))
