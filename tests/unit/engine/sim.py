"""A tiny cluster simulator for engine tests: applies the engine's actions to a fake pod set and
lets pods finish with scripted outcomes, advancing a fake clock. No Kubernetes involved."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from updraft.definition.model import Task, TaskGraph
from updraft.engine import (CreatePod, Decision, DeletePod, EngineSettings, ObservedPod, Outcome, RunStatus, RunView,
                            reconcile)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def graph(*tasks: Task) -> TaskGraph:
    return TaskGraph(dag_id="g", tasks={t.task_id: t for t in tasks})


def task(tid: str, *upstream: str, **kw: object) -> Task:
    kw.setdefault("operator", "airflow.providers.standard.operators.empty.EmptyOperator")
    return Task(task_id=tid, upstream=tuple(sorted(upstream)), **kw)  # type: ignore[arg-type]


# a script says, for (task, attempt, reschedule), what the pod does: an Outcome, "evict", or "hang"
Script = Callable[[str, int, int], object]


@dataclass
class Sim:
    graph: TaskGraph
    script: Script = lambda t, a, r: Outcome("success")
    run_time: timedelta = timedelta(seconds=10)
    now: datetime = T0
    status: RunStatus = field(default_factory=RunStatus)
    pods: dict[str, ObservedPod] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    stop: bool = False
    admitted: bool = True
    settings: EngineSettings = field(default_factory=EngineSettings)
    last: Decision | None = None

    def step(self) -> Decision:
        view = RunView("run-1", "wf", T0, self.status, stop_requested=self.stop, admitted=self.admitted)
        d = reconcile(view, self.graph, list(self.pods.values()), self.now, self.settings)
        for a in d.actions:
            if isinstance(a, CreatePod):
                assert a.pod_name not in self.pods, f"pod {a.pod_name} created twice"
                self.created.append(a.pod_name)
                self.pods[a.pod_name] = ObservedPod(a.pod_name, a.task_id, a.attempt, a.reschedule, "Pending",
                                                    created_at=self.now)
            elif isinstance(a, DeletePod) and a.pod_name in self.pods:
                self.pods[a.pod_name] = replace(self.pods[a.pod_name], deleted=True)
        self.status, self.last = d.status, d
        return d

    def advance(self, dt: timedelta) -> None:
        """Pods progress: Pending -> Running -> finished per script after run_time; deleted pods vanish."""
        self.now += dt
        for name, p in list(self.pods.items()):
            if p.deleted:
                del self.pods[name]
                continue
            behaviour = self.script(p.task_id, p.attempt, p.reschedule)
            if p.phase == "Pending":
                self.pods[name] = replace(p, phase="Running", started_at=self.now)
            elif p.phase == "Running" and behaviour == "evict":
                self.pods[name] = replace(p, phase="Failed", reason="Evicted", finished_at=self.now)
            elif p.phase == "Running" and behaviour != "hang" and self.now - (p.started_at or self.now) >= self.run_time:
                assert isinstance(behaviour, Outcome)
                phase = "Succeeded" if behaviour.state in ("success", "skipped", "up_for_reschedule") else "Failed"
                self.pods[name] = replace(p, phase=phase, finished_at=self.now, outcome=behaviour,
                                          exit_code=0 if phase == "Succeeded" else 1)

    def run_until_done(self, limit: int = 500, dt: timedelta = timedelta(seconds=5)) -> RunStatus:
        for _ in range(limit):
            d = self.step()
            if d.status.run_state in ("SUCCESS", "FAILED", "STOPPED", "TIMEOUT"):
                return d.status
            self.advance(dt)
        raise AssertionError(f"run did not finish: {self.status}")
