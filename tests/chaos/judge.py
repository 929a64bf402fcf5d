"""The judge (pure): from what the API server recorded and how the runs ended, the counts issue 15
asks for, and the one summary line.

- runs lost: a run created (its create answered) that is gone or not in a final state at the end;
- outcomes wrong: a run that ended, but not as its shape says (workflows.py);
- attempts duplicated: from the audit log, never a final listing: a pod name created twice, and a
  task attempt with more pods created than 1 + the pod faults the driver injected on its pods (a
  pod made for an attempt whose pod was never lost);
- retries spent on infrastructure: attempts beyond the one the task's shape ends on;
- timeouts not enforced: a task that never ends (chaos_hang) not ended TIMEOUT;
- runs stuck: runs the driver saw without progress for 180 s while unfinished;
- objects leaked: token Secrets and pods left at the end (every run has ended and its clean-up
  delay passed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from workflows import BY_NAME

from updraft.model import names

FINAL_RUN_STATES = frozenset({"SUCCESS", "FAILED", "STOPPED"})
MAX_ATTEMPT, MAX_RELAUNCH = 4, 8  # how far pod names are mapped back to (run, task, attempt)


@dataclass(frozen=True)
class Observed:
    created: Mapping[str, str]  # run name -> shape, for every run whose create succeeded
    final: Mapping[str, Mapping[str, Any]]  # run name -> its last body (absent: gone)
    pod_creations: Mapping[str, list[str]]  # pod name -> UIDs of its successful creates (audit log)
    pod_faults: frozenset[str]  # pods the driver deleted or evicted (the fault was applied), or lost with their node
    stuck: frozenset[str]  # runs without progress for 180 s while unfinished
    left_secrets: tuple[str, ...] = ()
    left_pods: tuple[str, ...] = ()


@dataclass
class Verdict:
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    infra_spent: list[str] = field(default_factory=list)
    timeouts_not_enforced: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    unknown_pods: list[str] = field(default_factory=list)  # pods of the namespace no run accounts for

    @property
    def clean(self) -> bool:
        return not (self.lost or self.wrong or self.duplicated or self.infra_spent or self.timeouts_not_enforced
                    or self.stuck or self.leaked or self.unknown_pods)

    def details(self, limit: int = 20) -> list[str]:
        out = []
        for what in ("lost", "wrong", "duplicated", "infra_spent", "timeouts_not_enforced", "stuck", "leaked",
                     "unknown_pods"):
            items: list[str] = getattr(self, what)
            out += [f"{what}: {x}" for x in items[:limit]]
            if len(items) > limit:
                out.append(f"{what}: ... {len(items) - limit} more")
        return out


def attempt_of_pod(run: str, tasks: list[str]) -> dict[str, tuple[str, int, int]]:
    """Every pod name the engine may give a task of this run -> (task, attempt, relaunch)."""
    return {names.pod_name(run, t, a, r): (t, a, r)
            for t in tasks for a in range(1, MAX_ATTEMPT + 1) for r in range(MAX_RELAUNCH + 1)}


def judge(o: Observed) -> Verdict:
    v = Verdict()
    by_pod: dict[str, tuple[str, str, int, int]] = {}
    for run, shape_of_run in o.created.items():
        for pod, (task, attempt, relaunch) in attempt_of_pod(run, list(BY_NAME[shape_of_run].tasks)).items():
            by_pod[pod] = (run, task, attempt, relaunch)

    # duplicates, from the audit log: pods really created per task attempt, against 1 + the pod faults
    # injected on that attempt's pods (a name asked for but never created, say a create refused
    # or answered 5xx without being applied, is no pod and is not counted)
    created: dict[tuple[str, str, int], list[str]] = {}
    faulted: dict[tuple[str, str, int], int] = {}
    for pod, uids in sorted(o.pod_creations.items()):
        if len(uids) > 1:
            v.duplicated.append(f"pod {pod} created {len(uids)} times (uids {', '.join(uids)})")
        where = by_pod.get(pod)
        if where is None:
            v.unknown_pods.append(pod)
            continue
        key = (where[0], where[1], where[2])
        created.setdefault(key, []).append(pod)
        if pod in o.pod_faults:
            faulted[key] = faulted.get(key, 0) + 1
    for key, pods in sorted(created.items()):
        if len(pods) > 1 + faulted.get(key, 0):
            v.duplicated.append(f"run {key[0]} task {key[1]} attempt {key[2]}: {len(pods)} pods "
                                f"({', '.join(sorted(pods))}) for {faulted.get(key, 0)} pod faults")

    for run, shape_name in sorted(o.created.items()):
        shape = BY_NAME[shape_name]
        body = o.final.get(run)
        status = (body or {}).get("status") or {}
        state = status.get("runState")
        if body is None or state not in FINAL_RUN_STATES:
            v.lost.append(f"run {run} ({shape_name}): {'gone' if body is None else f'still {state}'}")
            continue
        if state != shape.run_state:
            v.wrong.append(f"run {run} ({shape_name}): {state}, expected {shape.run_state}: {status.get('errorMessage')}")
        tis = {t.get("taskId"): t for t in status.get("taskInstances") or []}
        for task, want in shape.tasks.items():
            ti = tis.get(task) or {}
            got_state, got_attempt = ti.get("status"), int(ti.get("attemptNumber") or 0)
            if task == "chaos_hang" and got_state != "TIMEOUT":
                v.timeouts_not_enforced.append(f"run {run} task {task}: {got_state} (attempt {got_attempt})")
            if want.attempt and got_attempt > want.attempt:
                v.infra_spent.append(f"run {run} task {task}: attempt {got_attempt}, expected {want.attempt} "
                                     f"({got_state}: {ti.get('errorMessage')})")
            elif got_state != want.state or (want.attempt and got_attempt != want.attempt):
                v.wrong.append(f"run {run} task {task}: {got_state} attempt {got_attempt}, "
                               f"expected {want.state} attempt {want.attempt}")
    v.stuck = sorted(o.stuck)
    v.leaked = [f"secret {s}" for s in o.left_secrets] + [f"pod {p}" for p in o.left_pods]
    return v


@dataclass(frozen=True)
class Injected:
    """What the driver really injected (a targeted kill counts once it fired)."""

    runs: int
    kills: int
    targeted_kills: int
    apiserver_restarts: int
    leader_pauses: int
    pod_faults: int
    node_losses: int
    proxy_faults: int  # error windows, stalls and watch cuts


def summary_line(tier: str, seed: int, profile: str, i: Injected, v: Verdict, audit_complete: bool) -> str:
    verdict = "PASS" if v.clean and audit_complete else "FAIL"
    return (f"chaos {tier} seed={seed} profile={profile}: runs {i.runs}, operator kills {i.kills + i.targeted_kills} "
            f"(random {i.kills} / targeted {i.targeted_kills}), apiserver restarts {i.apiserver_restarts}, "
            f"leader pauses {i.leader_pauses}, pod faults {i.pod_faults}, node losses {i.node_losses}, "
            f"proxy faults {i.proxy_faults} | runs lost {len(v.lost)}, attempts duplicated {len(v.duplicated)}, "
            f"executions duplicated n/a (no executions on KWOK), retries spent on infrastructure {len(v.infra_spent)}, "
            f"timeouts not enforced {len(v.timeouts_not_enforced)}, runs stuck {len(v.stuck)}, "
            f"objects leaked {len(v.leaked)}, outcomes wrong {len(v.wrong)}, unknown pods {len(v.unknown_pods)}"
            f"{'' if audit_complete else ', AUDIT LOG INCOMPLETE'} -> {verdict}")
