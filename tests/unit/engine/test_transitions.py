"""Every transition of the engine, one reconcile each, with a fixed clock: given the previous
status and the pods, the new states, the actions and the next wake-up."""

from __future__ import annotations

from updraft.model.names import pod_name

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from updraft.definition.model import TaskGraph
from updraft.engine import (CreatePod, DeletePod, EngineSettings, Event, ObservedPod, Outcome, RunStatus, RunView,
                            TaskInstance, reconcile)

from sim import T0, graph, task

NOW = T0 + timedelta(minutes=30)
S = EngineSettings()
ONE = graph(task("a"))
CHAIN = graph(task("a"), task("b", "a"))
RETRY = graph(task("a", retries=2, retry_delay=timedelta(seconds=60)), task("b", "a"))
TIMED = graph(task("a", execution_timeout=timedelta(minutes=5)))
TIMED_RETRY = graph(task("a", execution_timeout=timedelta(minutes=5), retries=1, retry_delay=timedelta(seconds=10)))
SENSOR = graph(task("a", mode="reschedule", poke_interval=timedelta(seconds=90)))


def pn(task: str, attempt: int, reschedule: int = 0) -> str:
    """A pod name of run-1 (model.names.pod_name)."""
    return pod_name("run-1", task, attempt, reschedule)


def ti(tid: str, status: str, attempt: int = 1, r: int = 0, **kw: Any) -> TaskInstance:
    name = pn(tid, attempt, r)
    kw.setdefault("pod_name", name if attempt else None)
    return TaskInstance(tid, status, attempt, reschedules=r, **kw)


def pod(tid: str, phase: str, attempt: int = 1, r: int = 0, **kw: Any) -> ObservedPod:
    name = pn(tid, attempt, r)
    kw.setdefault("created_at", NOW - timedelta(minutes=1))
    if phase != "Pending":
        kw.setdefault("started_at", NOW - timedelta(minutes=1))
    return ObservedPod(name, tid, attempt, r, phase, **kw)


def running(*tis: TaskInstance, state: str = "RUNNING", **kw: Any) -> RunStatus:
    return RunStatus(state, started_on=T0, tasks={t.task_id: t for t in tis}, **kw)


@dataclass
class Case:
    id: str
    graph: TaskGraph | None
    status: RunStatus
    pods: list[ObservedPod] = field(default_factory=list)
    run_state: str = "RUNNING"
    tasks: dict[str, str] = field(default_factory=dict)  # expected task states (subset)
    actions: list[tuple[str, str]] = field(default_factory=list)  # ("create"|"delete", pod name), in order
    events: list[str] = field(default_factory=list)  # reasons that must be among the events
    requeue: datetime | None | str = "any"
    view: dict[str, Any] = field(default_factory=dict)
    check: Any = None  # extra assertion on the decision


CASES = [
    # --- run admission and definition --------------------------------------------------------
    Case("starting-admitted-starts-roots", CHAIN, RunStatus(), tasks={"a": "QUEUED", "b": "NONE"},
         actions=[("create", pn("a", 1))], events=["RunRunning", "TaskQueued"]),
    Case("starting-not-admitted-queues", CHAIN, RunStatus(), run_state="QUEUED", view={"admitted": False},
         events=["RunQueued"], requeue=None),
    Case("queued-stays-queued-quietly", CHAIN, RunStatus("QUEUED"), run_state="QUEUED", view={"admitted": False},
         requeue=None, check=lambda d: d.actions == ()),
    Case("queued-admitted-runs", CHAIN, RunStatus("QUEUED"), actions=[("create", pn("a", 1))],
         events=["RunRunning"], check=lambda d: d.status.started_on == NOW),
    Case("broken-definition-fails-with-its-error", CHAIN, RunStatus(), run_state="FAILED",
         view={"definition_error": "tasks.a.retries: at most 3"}, events=["RunFailed"],
         check=lambda d: d.status.error_message == "tasks.a.retries: at most 3"),
    Case("missing-graph-fails", None, running(ti("a", "RUNNING")), pods=[pod("a", "Running")], run_state="FAILED",
         actions=[("delete", pn("a", 1))], check=lambda d: "could not be loaded" in d.status.error_message),
    # --- a pod's life -------------------------------------------------------------------------
    Case("pending-waits-until-pending-timeout", ONE, running(ti("a", "QUEUED")), pods=[pod("a", "Pending")],
         tasks={"a": "QUEUED"}, requeue=NOW - timedelta(minutes=1) + S.pending_timeout),
    # a pod stuck Pending (image pull, scheduling) is the infrastructure's: a new pod, no retry spent
    Case("pending-too-long-relaunches-without-spending-retries", ONE, running(ti("a", "QUEUED")),
         pods=[pod("a", "Pending", created_at=NOW - timedelta(minutes=11))], tasks={"a": "QUEUED"},
         actions=[("delete", pn("a", 1)), ("create", pn("a", 1, 1))], events=["TaskInfrastructureRetry"],
         check=lambda d: (d.status.tasks["a"].attempt, d.status.tasks["a"].infra_retries) == (1, 1)),
    Case("pending-too-long-past-the-infra-bound-fails", RETRY,
         running(ti("a", "QUEUED", 1, 3, infra_retries=3), ti("b", "NONE", 0)),
         pods=[pod("a", "Pending", 1, 3, created_at=NOW - timedelta(minutes=11))], run_state="FAILED",
         tasks={"a": "FAILED", "b": "UPSTREAM_FAILED"}, actions=[("delete", pn("a", 1, 3))],
         check=lambda d: "did not start within 600s" in d.status.tasks["a"].error),
    Case("running-pod-marks-the-task-running", TIMED, running(ti("a", "QUEUED")), pods=[pod("a", "Running")],
         tasks={"a": "RUNNING"}, events=["TaskRunning"],
         requeue=NOW - timedelta(minutes=1) + timedelta(minutes=5) + S.timeout_grace,
         check=lambda d: d.status.tasks["a"].started_at == NOW - timedelta(minutes=1)),
    Case("unknown-phase-keeps-running", TIMED, running(ti("a", "RUNNING", started_at=NOW)), pods=[pod("a", "Unknown")],
         tasks={"a": "RUNNING"}, check=lambda d: d.actions == ()),
    Case("engine-clock-timeout-without-retries", TIMED, running(ti("a", "RUNNING", started_at=NOW)),
         pods=[pod("a", "Running", started_at=NOW - timedelta(minutes=6))], run_state="FAILED", tasks={"a": "TIMEOUT"},
         actions=[("delete", pn("a", 1))], events=["TaskTimeout", "RunFailed"]),
    Case("engine-clock-timeout-is-retried", TIMED_RETRY, running(ti("a", "RUNNING", started_at=NOW)),
         pods=[pod("a", "Running", started_at=NOW - timedelta(minutes=6))], tasks={"a": "UP_FOR_RETRY"},
         actions=[("delete", pn("a", 1))], requeue=NOW + timedelta(seconds=10)),
    Case("pod-deadline-is-a-timeout", TIMED, running(ti("a", "RUNNING")),
         pods=[pod("a", "Failed", reason="DeadlineExceeded", finished_at=NOW, ran=True)], run_state="FAILED",
         tasks={"a": "TIMEOUT"}),
    Case("pod-deadline-before-the-container-started-is-infrastructure", TIMED, running(ti("a", "QUEUED")),
         pods=[pod("a", "Failed", reason="DeadlineExceeded")], tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 1, 1)), ("delete", pn("a", 1))], check=lambda d: d.status.tasks["a"].infra_retries == 1),
    Case("success-starts-downstream", CHAIN, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Succeeded", finished_at=NOW - timedelta(seconds=5), outcome=Outcome("success"))],
         tasks={"a": "SUCCESS", "b": "QUEUED"}, actions=[("create", pn("b", 1))], events=["TaskSuccess"],
         check=lambda d: d.status.tasks["a"].ended_at == NOW - timedelta(seconds=5)),
    Case("last-success-ends-the-run", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Succeeded", finished_at=NOW)], run_state="SUCCESS", events=["RunSuccess"],
         requeue=NOW + S.cleanup_delay, check=lambda d: d.status.completed_on == NOW and d.status.error_message is None),
    Case("skipped-propagates-to-all-success", CHAIN, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Succeeded", finished_at=NOW, outcome=Outcome("skipped"))], run_state="SUCCESS",
         tasks={"a": "SKIPPED", "b": "SKIPPED"}),
    # --- retries ------------------------------------------------------------------------------
    Case("failure-with-retries-left-waits", RETRY, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1, finished_at=NOW - timedelta(seconds=20), outcome=Outcome("failed", "x"))],
         tasks={"a": "UP_FOR_RETRY", "b": "NONE"}, events=["TaskUpForRetry"], requeue=NOW + timedelta(seconds=40),
         check=lambda d: (d.status.tasks["a"].next_attempt_at, d.status.tasks["a"].error)
         == (NOW + timedelta(seconds=40), "x")),
    Case("final-failure-skips-the-retries-left", RETRY, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1, finished_at=NOW,
                   outcome=Outcome("failed", "AirflowFailException: bad input", retry=False))],
         run_state="FAILED", tasks={"a": "FAILED", "b": "UPSTREAM_FAILED"},
         check=lambda d: d.status.tasks["a"].error == "AirflowFailException: bad input"),
    Case("sensor-timeout-is-final", RETRY, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1, finished_at=NOW, outcome=Outcome("timeout", "AirflowSensorTimeout: x",
                                                                                 retry=False))],
         run_state="FAILED", tasks={"a": "TIMEOUT", "b": "UPSTREAM_FAILED"}),
    Case("retry-due-starts-the-next-attempt", RETRY,
         running(ti("a", "UP_FOR_RETRY", next_attempt_at=NOW), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1)], tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 2)), ("delete", pn("a", 1))],  # the superseded attempt's pod goes
         check=lambda d: d.status.tasks["a"].attempt == 2 and d.status.tasks["a"].error is None),
    Case("retry-not-due-waits", RETRY,
         running(ti("a", "UP_FOR_RETRY", next_attempt_at=NOW + timedelta(seconds=9)), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1)], tasks={"a": "UP_FOR_RETRY"}, requeue=NOW + timedelta(seconds=9),
         check=lambda d: d.actions == ()),
    Case("last-attempt-fails-the-task-and-downstream", RETRY, running(ti("a", "RUNNING", 3), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", 3, exit_code=1, outcome=Outcome("failed", "boom"))], run_state="FAILED",
         tasks={"a": "FAILED", "b": "UPSTREAM_FAILED"}, events=["TaskFailed", "TaskUpstreamFailed", "RunFailed"],
         check=lambda d: d.status.error_message == "Workflow execution failed"),
    # --- sensors ------------------------------------------------------------------------------
    Case("reschedule-waits-for-its-time", SENSOR, running(ti("a", "RUNNING")),
         pods=[pod("a", "Succeeded", outcome=Outcome("up_for_reschedule", reschedule_at=NOW + timedelta(minutes=2)))],
         tasks={"a": "UP_FOR_RESCHEDULE"}, requeue=NOW + timedelta(minutes=2)),
    Case("reschedule-without-a-time-uses-poke-interval", SENSOR, running(ti("a", "RUNNING")),
         pods=[pod("a", "Succeeded", outcome=Outcome("up_for_reschedule"))], tasks={"a": "UP_FOR_RESCHEDULE"},
         requeue=NOW + timedelta(seconds=90)),
    Case("reschedule-due-relaunches-the-same-attempt", SENSOR,
         running(ti("a", "UP_FOR_RESCHEDULE", started_at=T0, next_attempt_at=NOW)),
         pods=[pod("a", "Succeeded")], tasks={"a": "QUEUED"}, actions=[("create", pn("a", 1, 1)), ("delete", pn("a", 1))],
         check=lambda d: (d.status.tasks["a"].attempt, d.status.tasks["a"].reschedules,
                          d.status.tasks["a"].started_at) == (1, 1, T0)),
    # --- infrastructure -----------------------------------------------------------------------
    Case("eviction-relaunches-without-spending-retries", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Failed", reason="Evicted")], tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 1, 1)), ("delete", pn("a", 1))],
         events=["TaskInfrastructureRetry"],
         check=lambda d: (d.status.tasks["a"].attempt, d.status.tasks["a"].infra_retries) == (1, 1)),
    Case("infrastructure-retries-are-bounded", ONE, running(ti("a", "RUNNING", 1, 3, infra_retries=3)),
         pods=[pod("a", "Failed", 1, 3, reason="Evicted")], run_state="FAILED", tasks={"a": "FAILED"},
         check=lambda d: "infrastructure failure (Evicted) after 3" in d.status.tasks["a"].error),
    Case("running-pod-gone-is-infrastructure", ONE, running(ti("a", "RUNNING")), tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 1, 1))], events=["TaskInfrastructureRetry"]),
    # recorded but gone (the handler read it one by one): it may have run, so never the same name again
    Case("queued-pod-gone-is-relaunched-under-a-new-name", ONE, running(ti("a", "QUEUED")), tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 1, 1))],
         check=lambda d: (d.status.tasks["a"].infra_retries, d.status.tasks["a"].unseen_relaunches) == (0, 1)),
    Case("queued-pod-gone-too-often-fails", ONE, running(ti("a", "QUEUED", 1, 10, unseen_relaunches=10)),
         run_state="FAILED", tasks={"a": "FAILED"},
         check=lambda d: "disappeared before it started, 11 times" in d.status.tasks["a"].error),
    # a person deleted the pod: the kubelet SIGTERMs it (exit 143, Failed): not the task's failure
    Case("deleted-and-failed-is-infrastructure", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Failed", exit_code=143, deleted=True, deleted_at=NOW, ran=True)], tasks={"a": "QUEUED"},
         actions=[("create", pn("a", 1, 1))], check=lambda d: d.status.tasks["a"].infra_retries == 1),
    # the operator deleted it for its timeout and the record was lost: still a timeout
    Case("running-pod-gone-past-its-deadline-is-a-timeout", TIMED,
         running(ti("a", "RUNNING", started_at=NOW - timedelta(minutes=6))), run_state="FAILED",
         tasks={"a": "TIMEOUT"}),
    # a deleted pod whose container may still run (a lost node): no second copy until it ends or the bound
    Case("deleted-but-running-is-waited-for", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Running", deleted=True, deleted_at=NOW - timedelta(seconds=10), ran=True)],
         tasks={"a": "RUNNING"}, check=lambda d: d.actions == ()),
    Case("deleted-and-running-past-the-bound-is-relaunched", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Running", deleted=True, deleted_at=NOW - S.deleted_pod_bound, ran=True)],
         tasks={"a": "QUEUED"}, actions=[("create", pn("a", 1, 1))]),
    # a run in flight across the upgrade that added the hash to pod names: its recorded pod is found
    Case("a-pod-named-before-the-upgrade-is-still-the-tasks", ONE,
         running(ti("a", "RUNNING", pod_name="run-1-a-1")),
         pods=[ObservedPod("run-1-a-1", "a", 1, 0, "Succeeded", finished_at=NOW)], run_state="SUCCESS",
         tasks={"a": "SUCCESS"}, events=["TaskSuccess", "RunSuccess"]),
    # a stopped run whose pod is on a node that no longer answers: STOPPED after the bound, not never
    Case("stopping-with-a-pod-on-a-lost-node-ends", CHAIN, running(ti("a", "CANCELLED"), ti("b", "CANCELLED", 0),
                                                                   state="STOPPING"),
         pods=[pod("a", "Running", deleted=True, deleted_at=NOW - S.deleted_pod_bound, ran=True)],
         view={"stop_requested": True}, run_state="STOPPED", requeue="any"),
    # a timeout recorded whose pod delete was lost: the pod is stopped on the next pass
    Case("ended-attempt-with-a-live-pod-deletes-it", RETRY,
         running(ti("a", "UP_FOR_RETRY", next_attempt_at=NOW + timedelta(seconds=30)), ti("b", "NONE", 0)),
         pods=[pod("a", "Running")], tasks={"a": "UP_FOR_RETRY"}, actions=[("delete", pn("a", 1))]),
    Case("deleted-under-us-is-infrastructure", ONE, running(ti("a", "RUNNING")),
         pods=[pod("a", "Running", deleted=True)], tasks={"a": "QUEUED"}, actions=[("create", pn("a", 1, 1))]),
    # --- adoption after a lost status write -------------------------------------------------------
    Case("lost-status-adopts-the-running-pod", CHAIN, RunStatus("RUNNING", started_on=T0),
         pods=[pod("a", "Running")], tasks={"a": "RUNNING", "b": "NONE"}, events=["TaskAdopted"],
         check=lambda d: not any(isinstance(x, CreatePod) for x in d.actions)),
    Case("lost-status-adopts-a-finished-pod-and-moves-on", CHAIN, RunStatus("RUNNING", started_on=T0),
         pods=[pod("a", "Succeeded", finished_at=NOW)], tasks={"a": "SUCCESS", "b": "QUEUED"},
         actions=[("create", pn("b", 1))]),
    Case("status-behind-adopts-the-next-attempt", RETRY,
         running(ti("a", "UP_FOR_RETRY", next_attempt_at=NOW), ti("b", "NONE", 0)),
         pods=[pod("a", "Failed", exit_code=1), pod("a", "Running", 2)], tasks={"a": "RUNNING"},
         actions=[("delete", pn("a", 1))],
         check=lambda d: d.status.tasks["a"].attempt == 2 and not any(isinstance(x, CreatePod) for x in d.actions)),
    # --- stop ---------------------------------------------------------------------------------
    Case("stop-deletes-and-cancels", CHAIN, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Running")], view={"stop_requested": True}, run_state="STOPPING",
         tasks={"a": "CANCELLED", "b": "CANCELLED"}, actions=[("delete", pn("a", 1))], events=["RunStopping"],
         requeue=NOW + S.stop_poll),
    Case("stopping-waits-for-terminating-pods", CHAIN,
         running(ti("a", "CANCELLED"), ti("b", "CANCELLED", 0), state="STOPPING"),
         pods=[pod("a", "Running", deleted=True)], run_state="STOPPING", check=lambda d: d.actions == ()),
    Case("stopping-ends-when-no-pod-runs", CHAIN,
         running(ti("a", "CANCELLED"), ti("b", "CANCELLED", 0), state="STOPPING"),
         pods=[pod("a", "Failed", deleted=True)], run_state="STOPPED", events=["RunStopped"]),
    Case("stopping-ignores-pods-on-lost-nodes", CHAIN,
         running(ti("a", "CANCELLED"), ti("b", "CANCELLED", 0), state="STOPPING"),
         pods=[pod("a", "Unknown", deleted=True)], run_state="STOPPED"),
    Case("stop-keeps-what-finished-before-it", CHAIN, running(ti("a", "RUNNING"), ti("b", "NONE", 0)),
         pods=[pod("a", "Succeeded", finished_at=NOW)], view={"stop_requested": True}, run_state="STOPPED",
         tasks={"a": "SUCCESS", "b": "CANCELLED"}, check=lambda d: not any(isinstance(x, CreatePod) for x in d.actions)),
    Case("stop-before-start", CHAIN, RunStatus("QUEUED"), view={"stop_requested": True, "admitted": False},
         run_state="STOPPED", tasks={"a": "CANCELLED", "b": "CANCELLED"}),
    Case("stop-after-the-end-changes-nothing", ONE, RunStatus("SUCCESS", T0, NOW, tasks={"a": ti("a", "SUCCESS")}),
         view={"stop_requested": True}, run_state="SUCCESS", check=lambda d: d.actions == () and d.done),
    # --- after the end ------------------------------------------------------------------------
    Case("finished-keeps-pods-for-the-cleanup-delay", ONE,
         RunStatus("SUCCESS", T0, NOW - timedelta(minutes=1), tasks={"a": ti("a", "SUCCESS")}),
         pods=[pod("a", "Succeeded")], run_state="SUCCESS", requeue=NOW - timedelta(minutes=1) + S.cleanup_delay,
         check=lambda d: d.actions == () and not d.done and d.cleanup_at == d.requeue_at),
    Case("finished-deletes-pods-after-the-delay", ONE,
         RunStatus("FAILED", T0, NOW - S.cleanup_delay, tasks={"a": ti("a", "FAILED")}),
         pods=[pod("a", "Failed"), pod("a", "Failed", r=1)], run_state="FAILED",
         actions=[("delete", pn("a", 1, 1)), ("delete", pn("a", 1))], check=lambda d: not d.done),
    Case("finished-and-clean-is-done", ONE, RunStatus("STOPPED", T0, NOW, tasks={"a": ti("a", "CANCELLED")}),
         run_state="STOPPED", requeue=None, check=lambda d: d.done and d.actions == ()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_transition(case: Case) -> None:
    view = RunView("run-1", "wf", T0, case.status, **case.view)
    d = reconcile(view, case.graph, case.pods, NOW, S)
    assert d.status.run_state == case.run_state
    assert {t: d.status.tasks[t].status for t in case.tasks} == case.tasks
    made = [("create", a.pod_name) if isinstance(a, CreatePod) else ("delete", a.pod_name)
            for a in d.actions if isinstance(a, (CreatePod, DeletePod))]
    assert made == case.actions
    reasons = [a.reason for a in d.actions if isinstance(a, Event)]
    assert [r for r in case.events if r not in reasons] == []
    if case.requeue != "any":
        assert d.requeue_at == case.requeue
    if case.check is not None:
        assert case.check(d)
    # the same inputs give the same decision
    assert reconcile(view, case.graph, case.pods, NOW, S) == d


def test_every_state_change_has_an_event() -> None:
    before = running(ti("a", "RUNNING"), ti("b", "NONE", 0))
    d = reconcile(RunView("run-1", "wf", T0, before), CHAIN,
                  [pod("a", "Failed", exit_code=1, outcome=Outcome("failed", "boom"))], NOW, S)
    events = [a for a in d.actions if isinstance(a, Event)]
    assert [(e.type, e.reason) for e in events] == [("Warning", "TaskFailed"), ("Warning", "TaskUpstreamFailed"),
                                                    ("Warning", "RunFailed")]
    assert "boom" in events[0].message and "attempt 1" in events[0].message
