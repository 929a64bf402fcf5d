"""A tiny cluster simulator for engine tests: applies the engine's actions to a fake pod set and
lets pods progress with scripted behaviour, advancing a fake clock. No Kubernetes involved.

A script says, for (task, attempt, reschedule index), what the pod does once Running:
an Outcome (reported after `run_time`), "hang" (runs until deleted), "evict" (the kubelet evicts
it), "vanish" (the pod object disappears), or "stuck" (never leaves Pending)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from updraft.definition.model import Task, TaskGraph
from updraft.engine import (CreatePod, Decision, DeletePod, EngineSettings, ObservedPod, Outcome, RunStatus, RunView,
                            reconcile)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
FINAL = ("SUCCESS", "FAILED", "STOPPED", "TIMEOUT")


def graph(*tasks: Task) -> TaskGraph:
    return TaskGraph(dag_id="g", tasks={t.task_id: t for t in tasks})


def task(tid: str, *upstream: str, **kw: object) -> Task:
    kw.setdefault("operator", "airflow.providers.standard.operators.empty.EmptyOperator")
    return Task(task_id=tid, upstream=tuple(sorted(upstream)), **kw)  # type: ignore[arg-type]


Script = Callable[[str, int, int], object]


def succeed(t: str, a: int, r: int) -> object:
    return Outcome("success")


@dataclass
class Sim:
    graph: TaskGraph
    script: Script = succeed
    run_time: timedelta = timedelta(seconds=10)
    now: datetime = T0
    status: RunStatus = field(default_factory=RunStatus)
    pods: dict[str, ObservedPod] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    stop: bool = False
    admitted: bool = True
    settings: EngineSettings = field(default_factory=EngineSettings)
    last: Decision | None = None
    decisions: list[Decision] = field(default_factory=list)

    def view(self) -> RunView:
        return RunView("run-1", "wf", T0, self.status, stop_requested=self.stop, admitted=self.admitted)

    def step(self) -> Decision:
        d = reconcile(self.view(), self.graph, list(self.pods.values()), self.now, self.settings)
        for a in d.actions:
            if isinstance(a, CreatePod):
                assert a.pod_name not in self.pods, f"pod {a.pod_name} created while it exists"
                assert a.pod_name not in self.created, f"pod {a.pod_name} created twice"
                self.created.append(a.pod_name)
                self.pods[a.pod_name] = ObservedPod(a.pod_name, a.task_id, a.attempt, a.reschedule, "Pending",
                                                    created_at=self.now)
            elif isinstance(a, DeletePod) and a.pod_name in self.pods:
                self.pods[a.pod_name] = replace(self.pods[a.pod_name], deleted=True)
        self.status, self.last = d.status, d
        self.decisions.append(d)
        return d

    def restart(self) -> None:
        """A new operator process: the status as read back from the CR, the same pods."""
        self.status = RunStatus.from_dict(self.status.to_dict("wf", "run-1"))

    def advance(self, dt: timedelta) -> None:
        """Pods progress: Pending -> Running -> finished per script after run_time; deleted pods vanish."""
        self.now += dt
        for name, p in list(self.pods.items()):
            if p.deleted:
                del self.pods[name]
                continue
            behaviour = self.script(p.task_id, p.attempt, p.reschedule)
            if p.phase == "Pending" and behaviour != "stuck":
                self.pods[name] = replace(p, phase="Running", started_at=self.now)
            elif p.phase == "Running" and behaviour == "evict":
                self.pods[name] = replace(p, phase="Failed", reason="Evicted", finished_at=self.now)
            elif p.phase == "Running" and behaviour == "vanish":
                del self.pods[name]
            elif (p.phase == "Running" and isinstance(behaviour, Outcome)
                  and self.now - (p.started_at or self.now) >= self.run_time):
                phase = "Succeeded" if behaviour.state in ("success", "skipped", "up_for_reschedule") else "Failed"
                self.pods[name] = replace(p, phase=phase, finished_at=self.now, outcome=behaviour,
                                          exit_code=0 if phase == "Succeeded" else 1)

    def run_until_done(self, limit: int = 500, dt: timedelta = timedelta(seconds=5)) -> RunStatus:
        for _ in range(limit):
            d = self.step()
            if d.status.run_state in FINAL:
                return d.status
            self.advance(dt)
        raise AssertionError(f"run did not finish: {self.status}")

    def events(self) -> list[str]:
        return [a.reason for d in self.decisions for a in d.actions if type(a).__name__ == "Event"]
