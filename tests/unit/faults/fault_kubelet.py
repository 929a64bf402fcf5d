"""A fake kubelet for the fault tier: moves task pods Pending -> Running -> Succeeded/Failed
as each task's script says, enforces activeDeadlineSeconds from the pod's startTime (image pull
included, as the real kubelet does), ends deleted pods the way a kubelet does (a running container
gets SIGTERM: phase Failed, exit 143, no termination message; then the object goes), and applies
pod faults (evictions, slow image pulls). It keeps the execution ledger: every container that ran
to its own end, per attempt, so an attempt executed twice is counted even under two pod names.

Runners report early (engine/outcome.py, "The early report"): at its end, a runner sends its
outcome to the task API (`reports`, which the driver records through the task API's own code)
with probability `report_rate`, sometimes twice (`duplicate_rate`: a retry whose answer was lost),
and the kubelet writes the terminal status 1-3 s later (its PLEG), during which the pod may still
be evicted or deleted."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fault_server import Server

from updraft.model import names
from updraft.model.times import format_ts, parse_ts

# what a task does on every attempt
OK, FLAKY, BAD, SLOW, SENSOR = "ok", "flaky", "bad", "slow", "sensor"
RUN_SECONDS = {OK: 8, FLAKY: 6, BAD: 5, SLOW: 10_000, SENSOR: 3}
PULL_SECONDS = 2
SLOW_PULL_SECONDS = 900  # longer than the engine's pending timeout (600 s)
SENSOR_POKES = 2  # up_for_reschedule this many times, then success
STATUS_LAG_S = (1, 3)  # a reporting runner's exit reaches the pod's status this much later


@dataclass
class PodLife:
    accepted_at: datetime
    pull_done_at: datetime
    started_at: datetime | None = None
    ends_at: datetime | None = None
    evict_at: datetime | None = None
    terminated: bool = False
    final: tuple[Any, ...] | None = None  # a reported end the kubelet has not written yet
    final_at: datetime | None = None


@dataclass
class Kubelet:
    server: Server
    namespace: str
    scripts: dict[tuple[str, str], str]  # (run, task) -> behaviour
    rng: random.Random
    evict_rate: float = 0.0
    slow_pull_rate: float = 0.0
    report_rate: float = 0.0
    duplicate_rate: float = 0.0
    reports: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (pod, JSON) sent, to record
    lives: dict[str, PodLife] = field(default_factory=dict)  # by pod uid
    executions: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # ran to its end, per attempt
    pokes: Counter[tuple[str, str]] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # runs whose pods changed in the last step

    def step(self, now: datetime) -> None:
        self.changed = set()
        for key, pod in list(self.server.objects.items()):
            if key[0] == "Pod" and key[1] == self.namespace:
                self._pod(now, pod)

    def _mark(self, pod: dict[str, Any]) -> None:
        pod["metadata"]["resourceVersion"] = str(next(self.server._ids))
        self.changed.add(pod["metadata"]["labels"][names.LABEL_RUN])

    def _pod(self, now: datetime, pod: dict[str, Any]) -> None:
        meta, status = pod["metadata"], pod.setdefault("status", {})
        life = self.lives.get(meta["uid"])
        if life is None:
            slow = self.rng.random() < self.slow_pull_rate
            pull = SLOW_PULL_SECONDS if slow else PULL_SECONDS
            if slow:
                self.faults.append(f"{format_ts(now)} slow image pull {meta['name']}")
            life = self.lives[meta["uid"]] = PodLife(now, now + timedelta(seconds=pull))
            status.update({"phase": "Pending", "startTime": format_ts(now)})
            self._mark(pod)
        phase = status.get("phase")
        if meta.get("deletionTimestamp"):
            if phase == "Running":
                self._terminate(pod, life, now, "Failed", 143, None, reason="Error")
            elif parse_ts(meta["deletionTimestamp"]) + timedelta(seconds=1) <= now:  # type: ignore[operator]
                self.server.remove("Pod", self.namespace, meta["name"])
                self.changed.add(meta["labels"][names.LABEL_RUN])
            return
        if phase in ("Succeeded", "Failed"):
            return
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline is not None and now >= life.accepted_at + timedelta(seconds=deadline):
            self._terminate(pod, life, now, "Failed", 137 if life.started_at else None, None, reason="DeadlineExceeded",
                            pod_reason="DeadlineExceeded")
            return
        if phase == "Pending" and now >= life.pull_done_at:
            run, task = meta["labels"][names.LABEL_RUN], meta["annotations"][names.ANNOTATION_TASK_ID]
            behaviour = self.scripts[(run, task)]
            life.started_at = now
            life.ends_at = now + timedelta(seconds=RUN_SECONDS[behaviour])
            if self.rng.random() < self.evict_rate:
                life.evict_at = now + timedelta(seconds=self.rng.randint(1, RUN_SECONDS[behaviour] + 1))
            status["phase"] = "Running"
            status["containerStatuses"] = [{"name": "task", "state": {"running": {"startedAt": format_ts(now)}}}]
            self._mark(pod)
            return
        if phase == "Running":
            if life.evict_at is not None and now >= life.evict_at:
                self.faults.append(f"{format_ts(now)} evict {meta['name']}")
                self._terminate(pod, life, now, "Failed", 137, None, reason="Error", pod_reason="Evicted")
            elif life.final is not None and life.final_at is not None and now >= life.final_at:
                phase, code, report, reason = life.final
                self._terminate(pod, life, now, phase, code, report, reason=reason)
            elif life.final is None and life.ends_at is not None and now >= life.ends_at:
                self._finish(pod, life, now)

    def _finish(self, pod: dict[str, Any], life: PodLife, now: datetime) -> None:
        meta = pod["metadata"]
        run, task = meta["labels"][names.LABEL_RUN], meta["annotations"][names.ANNOTATION_TASK_ID]
        attempt = int(meta["labels"][names.LABEL_ATTEMPT])
        behaviour = self.scripts[(run, task)]
        if behaviour == SENSOR:
            self.pokes[(run, task)] += 1
            if self.pokes[(run, task)] <= SENSOR_POKES:
                report = {"state": "up_for_reschedule", "reschedule_at": format_ts(now + timedelta(seconds=5))}
                self._end(pod, life, now, "Succeeded", 0, report, "Completed")
                return
        self.executions[(run, task, attempt)] += 1
        if behaviour == OK or behaviour == SENSOR or (behaviour == FLAKY and attempt > 1):
            self._end(pod, life, now, "Succeeded", 0, {"state": "success"}, "Completed")
        else:
            self._end(pod, life, now, "Failed", 1, {"state": "failed", "error": "scripted failure"}, "Error")

    def _end(self, pod: dict[str, Any], life: PodLife, now: datetime, phase: str, code: int,
             report: dict[str, Any], reason: str) -> None:
        """The runner is done: it reports early (maybe twice), and the kubelet writes the end later;
        or, without a report, the end is written now."""
        if self.rng.random() >= self.report_rate:
            self._terminate(pod, life, now, phase, code, report, reason=reason)
            return
        text = json.dumps(report)
        self.reports.append((pod, text))
        if self.rng.random() < self.duplicate_rate:
            self.reports.append((pod, text))
        life.final, life.final_at = (phase, code, report, reason), now + timedelta(seconds=self.rng.randint(*STATUS_LAG_S))

    def _terminate(self, pod: dict[str, Any], life: PodLife, now: datetime, phase: str, code: int | None,
                   report: dict[str, Any] | None, *, reason: str, pod_reason: str | None = None) -> None:
        status = pod["status"]
        status["phase"] = phase
        if pod_reason:
            status["reason"] = pod_reason
        if code is not None:
            terminated: dict[str, Any] = {"exitCode": code, "reason": reason, "finishedAt": format_ts(now),
                                          "startedAt": format_ts(life.started_at or now)}
            if report is not None:
                terminated["message"] = json.dumps(report)
            status["containerStatuses"] = [{"name": "task", "state": {"terminated": terminated}}]
        life.terminated = True
        self._mark(pod)

    def delete_by_hand(self, now: datetime, rng: random.Random) -> str | None:
        """A person or a tool deletes one live task pod (kubectl delete pod). Not a finished one: without
        a finalizer on task pods, an outcome deleted before the operator read it is lost, and the
        attempt runs again (docs/operations.md says so). That includes a pod whose runner has ended
        and reported while the kubelet has not written its end yet: the report is on the object."""
        live = [o for (k, ns, _), o in sorted(self.server.objects.items())
                if k == "Pod" and ns == self.namespace and not o["metadata"].get("deletionTimestamp")
                and (o.get("status") or {}).get("phase") in ("Pending", "Running")
                and getattr(self.lives.get(o["metadata"]["uid"]), "final", None) is None]
        if not live:
            return None
        pod = rng.choice(live)
        self.server.mark_deleted(self.namespace, pod["metadata"]["name"])
        self.changed.add(pod["metadata"]["labels"][names.LABEL_RUN])
        self.faults.append(f"{format_ts(now)} kubectl delete pod {pod['metadata']['name']} "
                           f"({pod['status'].get('phase')})")
        return str(pod["metadata"]["name"])
