"""The fault tier's driver: one seeded simulation of an operator process running the REAL
`updraft.handlers.runs.reconcile_run` (and so the engine and the pod builder) against the
RBAC-enforcing server (fault_server.py) and the fake kubelet (fault_kubelet.py), on a simulated clock.

The process loop mimics the operator's run loop (handlers/runloop.RunLoop): every unfinished run is
reconciled when one of its pods changes, at the engine's requeue time, or at the latest every
60 s; a Retry or a transient error looks again in 5 s, any other error in 60 s (the longest of the loop's
ERROR_DELAYS).
A crash ends the process: its Context (caches, versions, wake-ups) is thrown away and, after 0-10 s
of downtime, a new process resumes every run that is not finalized, as kopf does.

Faults (rates per Kubernetes call unless said): crashes before or after a call (more often right
after a Secret, pod or status write: the targeted kills), error answers (409 on writes, 429, 500,
503), 500 after the change was applied, hangs cut by a timeout (before or after applying), status
writes acknowledged and lost, a stale second reconciler (a deposed leader reconciling from reads
taken seconds earlier), and pod faults from the kubelet (evictions, slow image pulls) and from
people (kubectl delete pod). Most runners report their outcome early through the task API (its
own recording code, `taskapi.reports.record`, against the same faulty server: a report may be
lost, land with its answer lost, or be sent twice), and the kubelet writes their end 1-3 s later.
Everything injected goes in `timeline`, which is printed with the seed when an invariant fails.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fault_kubelet import BAD, FLAKY, OK, SENSOR, SLOW, Kubelet
from fault_server import Call, Crash, Server

from updraft.config import Settings
from updraft.engine.model import RunStatus
from updraft.errors import Retry, transient
from updraft.handlers.context import Context
from updraft.handlers.runs import reconcile_run
from updraft.handlers.workflows import reconcile_workflow
from updraft.k8s.resources import Conflict, KubeError
from updraft.model import names
from updraft.model.times import format_ts
from updraft.taskapi.reports import ReportRefused, canonical, record
from updraft.taskapi.server import report_refusal
from updraft.taskapi.tokens import Attempt

NS = "faults"
T0 = datetime(2026, 5, 4, 9, 0, 0, tzinfo=timezone.utc)
TASKS = ("t1", "t2", "t3", "t4")  # t1 -> t2, t1 -> t3; t4 alone
DEFINITION = """\
chaos:
  schedule: None
  default_args: {retries: 1, retry_delay: 5, execution_timeout: 60}
  tasks:
    t1: {operator: EmptyOperator}
    t2: {operator: EmptyOperator, dependencies: [t1]}
    t3: {operator: EmptyOperator, dependencies: [t1]}
    t4: {operator: EmptyOperator}
"""
BEHAVIOURS = (OK,) * 11 + (FLAKY,) * 3 + (BAD,) * 2 + (SLOW,) * 2 + (SENSOR,) * 2
WRITES = {"create", "delete", "patch", "patch_status"}
CHAOS_S, DRAIN_S = 900, 2400


@dataclass
class Rates:
    crash: float = 0.004  # before or after any call
    targeted_crash: float = 0.03  # right after a Secret, pod or status write
    error: float = 0.01  # an error answer instead of the call
    error_after: float = 0.006  # 500 after the write was applied
    hang: float = 0.003  # a hang cut by a timeout (before or after applying)
    lost_status: float = 0.01  # a status write acknowledged, never stored
    stale_window: float = 0.004  # per second: a deposed leader reconciles from old reads
    evict: float = 0.04  # per running pod
    slow_pull: float = 0.02  # per pod
    hand_delete: float = 0.005  # per second: kubectl delete pod
    report: float = 0.8  # per finished runner: its outcome reported early through the task API
    duplicate_report: float = 0.1  # per report: sent a second time


@dataclass
class Faults:
    rng: random.Random
    rates: Rates
    clock: Any
    active: bool = True
    timeline: list[str] = field(default_factory=list)
    kills: int = 0
    targeted_kills: int = 0
    errors: int = 0
    hangs: int = 0
    lost_writes: int = 0

    def _note(self, what: str, call: Call) -> None:
        self.timeline.append(f"{format_ts(self.clock())} {what} {call.verb} {call.kind} {call.name} ({call.process})")

    def before(self, call: Call) -> None:
        if not self.active:
            return
        r, rates = self.rng.random(), self.rates
        if r < rates.crash:
            self.kills += 1
            self._note("crash before", call)
            raise Crash()
        r -= rates.crash
        if r < rates.error:
            self.errors += 1
            options = [429, 500, 503] + ([409] if call.verb in ("patch", "patch_status") else [])
            code = self.rng.choice(options)
            self._note(f"answer {code} to", call)
            if code == 409:
                raise Conflict(409, "Conflict", "the object has been modified")
            raise KubeError(code, "Injected", "injected by the fault tier")
        r -= rates.error
        if r < rates.hang:
            self.hangs += 1
            self._note("hang (then timeout) before", call)
            raise asyncio.TimeoutError()

    def after(self, call: Call) -> None:
        if not self.active:
            return
        r, rates = self.rng.random(), self.rates
        targeted = call.verb in WRITES and call.kind in ("Secret", "Pod", "WorkflowRun")
        p = rates.targeted_crash if targeted else rates.crash
        if r < p:
            self.kills += 1
            self.targeted_kills += targeted
            self._note("crash after", call)
            raise Crash()
        r -= p
        if call.verb in WRITES and r < rates.error_after:
            self.errors += 1
            self._note("500 after applying", call)
            raise KubeError(500, "InternalError", "injected after the write was applied")
        r -= rates.error_after
        if r < rates.hang:
            self.hangs += 1
            self._note("hang (then timeout) after", call)
            raise asyncio.TimeoutError()

    def lose_status_write(self, call: Call) -> bool:
        if self.active and self.rng.random() < self.rates.lost_status:
            self.lost_writes += 1
            self._note("lose", call)
            return True
        return False


class StaleClient:
    """A deposed leader's reads: the run and its pods as they were at `taken`; its writes are real."""

    def __init__(self, server: Server, snapshot: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        self.inner, self.snapshot = server.client("stale"), snapshot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if kind == "WorkflowRun" and (kind, namespace or "", name) in self.snapshot:
            await self.inner.get(kind, name, namespace)  # the call (and its faults) happen
            return copy.deepcopy(self.snapshot[(kind, namespace or "", name)])
        return await self.inner.get(kind, name, namespace)  # type: ignore[no-any-return]

    async def list(self, kind: str, namespace: str | None = None, labels: Any = None) -> list[dict[str, Any]]:
        if kind != "Pod":
            return await self.inner.list(kind, namespace, labels)  # type: ignore[no-any-return]
        await self.inner.list(kind, namespace, labels)
        return [copy.deepcopy(o) for (k, ns, _), o in sorted(self.snapshot.items())
                if k == "Pod" and ns == namespace
                and all((o["metadata"].get("labels") or {}).get(a) == b for a, b in (labels or {}).items())]


@dataclass
class Result:
    seed: int
    runs: int = 0
    kills: int = 0
    targeted_kills: int = 0
    pod_faults: int = 0
    errors: int = 0
    stale_windows: int = 0
    reports: int = 0  # early reports sent (duplicates included)
    reports_not_recorded: int = 0  # of which the task API failed to record (or was refused)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    infra_spent: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    infra_exhausted: list[str] = field(default_factory=list)  # FAILED after max_infra_retries real infra faults
    leaked: list[str] = field(default_factory=list)
    crashed_code: list[str] = field(default_factory=list)  # exceptions other than the injected ones
    timeline: list[str] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return bool(self.lost or self.duplicated or self.infra_spent or self.stuck or self.leaked or self.crashed_code)


def expected(scripts: dict[tuple[str, str], str], run: str) -> tuple[str, dict[str, tuple[str, int]]]:
    """The run's end state and each task's (state, attempt) the scripts call for (retries 1)."""
    own = {OK: ("SUCCESS", 1), SENSOR: ("SUCCESS", 1), FLAKY: ("SUCCESS", 2), BAD: ("FAILED", 2),
           SLOW: ("TIMEOUT", 2)}
    tasks = {t: own[scripts[(run, t)]] for t in TASKS}
    if tasks["t1"][0] != "SUCCESS":
        tasks["t2"] = tasks["t3"] = ("UPSTREAM_FAILED", 0)
    leaves_ok = all(tasks[t][0] == "SUCCESS" for t in ("t2", "t3", "t4"))
    return ("SUCCESS" if leaves_ok else "FAILED"), tasks


async def simulate(seed: int, n_runs: int = 3, rates: Rates | None = None) -> Result:
    rng = random.Random(seed)
    now = [T0]
    clock = lambda: now[0]  # noqa: E731
    server = Server(clock)
    # failed runs' pods go after the same delay as the others (without a log backend they are kept
    # a day for their logs): the leak check looks at what is left when every run is finalized
    settings = Settings(task_api_url="http://updraft-task-api:8081", pod_cleanup_delay_s=30,
                        failed_pod_retention_s=30, max_concurrent_runs=100)

    def new_context(kube: Any) -> Context:
        return Context(settings=settings, kube=kube, s3_client_factory=lambda: None, clock=clock,
                       task_api_key=b"fault-tier-key")

    setup = new_context(server.client("setup"))
    await server.client("setup").create({"apiVersion": names.API_VERSION, "kind": "Workflow",
                                         "metadata": {"name": "chaos", "namespace": NS},
                                         "spec": {"roleArn": "arn:aws:iam::123456789012:role/chaos",
                                                  "definition": DEFINITION}}, NS)
    status = await reconcile_workflow(setup, await server.get("Workflow", "chaos", NS))
    await server.patch_status("Workflow", "chaos", NS, status)
    run_names = [f"chaos-{seed}-{i}" for i in range(n_runs)]
    scripts = {(r, t): rng.choice(BEHAVIOURS) for r in run_names for t in TASKS}
    for r in run_names:
        await server.create({"apiVersion": names.API_VERSION, "kind": "WorkflowRun",
                             "metadata": {"name": r, "namespace": NS},
                             "spec": {"workflowName": "chaos", "runType": "ON_DEMAND"}}, NS)

    rates = rates or Rates()
    faults = Faults(rng, rates, clock)
    server.injector = faults
    kubelet = Kubelet(server, NS, scripts, rng, evict_rate=rates.evict, slow_pull_rate=rates.slow_pull,
                      report_rate=rates.report, duplicate_rate=rates.duplicate_report)
    result = Result(seed, runs=n_runs)
    ctx: Context | None = new_context(server.client())
    due: dict[str, datetime] = {r: T0 for r in run_names}
    up_at = T0
    hand_deletes = 0

    def post(obj: Any, type_: str, reason: str, message: str) -> None:
        pass

    async def one(c: Context, run: str) -> datetime | None:
        """One pass of the run loop; the next time to look, None when the loop ends."""
        t = now[0]
        try:
            decision = await reconcile_run(c, NS, run, post)
        except Retry as e:
            return t + timedelta(seconds=min(e.delay or 5, 60))
        except KubeError as e:
            return t + timedelta(seconds=5 if transient(e) else 60)
        except asyncio.TimeoutError:
            return t + timedelta(seconds=5)
        except Crash:
            raise
        except Exception as e:  # a bug: kopf would log it and retry the daemon after its backoff
            result.crashed_code.append(f"{format_ts(t)} {run}: {type(e).__name__}: {e}")
            return t + timedelta(seconds=60)
        if decision is None or decision.done:
            return None
        nxt = t + timedelta(seconds=60)
        if decision.requeue_at is not None:
            nxt = min(nxt, max(decision.requeue_at, t))
        return nxt

    for second in range(CHAOS_S + DRAIN_S):
        now[0] = T0 + timedelta(seconds=second)
        faults.active = kubelet_faults = second < CHAOS_S
        kubelet.evict_rate = rates.evict if kubelet_faults else 0.0
        kubelet.slow_pull_rate = rates.slow_pull if kubelet_faults else 0.0
        kubelet.step(now[0])
        await _record_reports(server, kubelet, faults, result)
        if kubelet_faults and rng.random() < rates.hand_delete:
            if kubelet.delete_by_hand(now[0], rng):
                hand_deletes += 1
        for r in kubelet.changed:
            if r in due:
                due[r] = min(due[r], now[0])
        if kubelet_faults and rng.random() < rates.stale_window:
            result.stale_windows += 1
            faults.timeline.append(f"{format_ts(now[0])} a stale second reconciler acts on reads 0-10 s old")
            snapshot = copy.deepcopy({k: v for k, v in server.objects.items() if k[0] in ("WorkflowRun", "Pod")})
            stale = new_context(StaleClient(server, snapshot))
            for r in run_names:
                try:
                    await reconcile_run(stale, NS, r, post)
                except (Crash, Retry, KubeError, asyncio.TimeoutError):
                    pass  # a deposed leader that dies or fails simply stops
        if ctx is None:
            if now[0] < up_at:
                continue
            ctx = new_context(server.client())  # a new process: nothing kept but what the cluster holds
            due = {r: now[0] for r in run_names
                   if not (server.objects.get(("WorkflowRun", NS, r), {}).get("status") or {}).get("finalized")}
        for r in sorted(due):
            if due.get(r, now[0] + timedelta(days=1)) > now[0]:
                continue
            try:
                nxt = await one(ctx, r)
            except Crash:
                ctx = None
                up_at = now[0] + timedelta(seconds=rng.randint(0, 10))
                break
            if nxt is None:
                due.pop(r, None)
            else:
                due[r] = max(nxt, now[0] + timedelta(seconds=1)) if nxt <= now[0] else nxt
        if second >= CHAOS_S and not due and ctx is not None:
            break

    result.kills, result.targeted_kills = faults.kills, faults.targeted_kills
    result.errors = faults.errors + faults.hangs + faults.lost_writes
    result.pod_faults = len(kubelet.faults)
    result.timeline = sorted(faults.timeline + kubelet.faults)
    _judge(result, server, kubelet, scripts, run_names)
    return result


async def _record_reports(server: Server, kubelet: Kubelet, faults: Faults, result: Result) -> None:
    """What the task API does with the runners' early reports (after the token check, which the
    unit tests of the task API cover): the run read, then `record` on the pod. A failure is the
    runner's lost report: it falls back on its termination message."""
    api = server.client("taskapi")
    for pod, text in kubelet.reports:
        result.reports += 1
        meta = pod["metadata"]
        run_name = meta["labels"][names.LABEL_RUN]
        try:
            run = await api.get("WorkflowRun", run_name, NS)
            who = Attempt(NS, run_name, meta["annotations"][names.ANNOTATION_TASK_ID],
                          int(meta["labels"][names.LABEL_ATTEMPT]), run["metadata"]["uid"], meta["name"])
            await record(api, who, canonical(json.loads(text)), report_refusal(run, who))  # type: ignore[arg-type]
            kubelet.changed.add(run_name)
        except (Crash, KubeError, ReportRefused, asyncio.TimeoutError) as e:
            kubelet.changed.add(run_name)
            result.reports_not_recorded += 1
            faults.timeline.append(f"{format_ts(server.clock())} report of {meta['name']} not recorded: "
                                   f"{type(e).__name__} {e}")
    kubelet.reports.clear()


def _judge(result: Result, server: Server, kubelet: Kubelet, scripts: dict[tuple[str, str], str],
           run_names: list[str]) -> None:
    created: dict[str, int] = {}
    for _, kind, name, _labels in server.creates:
        if kind == "Pod":
            created[name] = created.get(name, 0) + 1
    result.duplicated += [f"pod {n} created {c} times" for n, c in created.items() if c > 1]
    result.duplicated += [f"attempt {k} executed {c} times" for k, c in kubelet.executions.items() if c > 1]
    for r in run_names:
        body = server.objects[("WorkflowRun", NS, r)]
        status = RunStatus.from_dict(body.get("status"))
        want_run, want_tasks = expected(scripts, r)
        if status.run_state not in ("SUCCESS", "FAILED", "STOPPED", "TIMEOUT"):
            result.stuck.append(f"{r} is {status.run_state}")
            continue
        # a final run whose `finalized` write was lost is not stuck: its pods are gone (the leak check
        # says so) and the next operator start only looks at it once more
        got = {t: (status.tasks[t].status, status.tasks[t].attempt) for t in TASKS if t in status.tasks}
        for t, (state, attempt) in want_tasks.items():
            have_state, have_attempt = got.get(t, ("NONE", 0))
            if have_state != state and _infra_exhausted(result, r, t, status.tasks.get(t)):
                result.infra_exhausted.append(f"{r}/{t}: {status.tasks[t].error}")
            elif have_state != state:
                result.lost.append(f"{r}/{t} ({scripts[(r, t)]}) ended {have_state} (attempt {have_attempt}), "
                                   f"expected {state}: {status.tasks[t].error if t in status.tasks else ''}")
            elif have_attempt > attempt:
                result.infra_spent.append(f"{r}/{t} ({scripts[(r, t)]}) used attempt {have_attempt}, expected {attempt}")
        if status.run_state != want_run and not any(x.startswith(f"{r}/") for x in result.lost):
            result.lost.append(f"{r} ended {status.run_state}, expected {want_run}")
    for (kind, ns, name), _obj in server.objects.items():
        if kind in ("Pod", "Secret") and ns == NS:
            result.leaked.append(f"{kind} {name}")
    result.leaked += [f"403 {c.verb} {c.kind} {c.name}" for c in server.forbidden]


def _infra_exhausted(result: Result, run: str, task: str, ti: Any) -> bool:
    """A task that FAILED for the infrastructure after more injected faults on its pods than the
    engine's bound (3 re-launches): the designed end, not a lost run. Counted from the timeline."""
    if ti is None or ti.status != "FAILED" or "infrastructure failure" not in (ti.error or ""):
        return False
    prefix = names.pod_name(run, task, 1).rsplit("-", 1)[0] + "-"  # the task's pods, any attempt
    hits = sum(1 for line in result.timeline if prefix in line and "(stale)" not in line
               and ("Pod" in line or "Secret" in line or "evict" in line or "slow image" in line
                    or "kubectl delete" in line))
    return hits > 3


def summary(results: list[Result]) -> str:
    total = lambda attr: sum(len(getattr(r, attr)) for r in results)  # noqa: E731
    return (f"fault tier: seeds={len(results)} runs={sum(r.runs for r in results)} "
            f"kills={sum(r.kills for r in results)} (targeted {sum(r.targeted_kills for r in results)}) "
            f"api-faults={sum(r.errors for r in results)} stale-leaders={sum(r.stale_windows for r in results)} "
            f"pod-faults={sum(r.pod_faults for r in results)} "
            f"early-reports={sum(r.reports for r in results)} (not recorded "
            f"{sum(r.reports_not_recorded for r in results)}) | runs-lost={total('lost')} "
            f"attempts-duplicated={total('duplicated')} infra-retries-spent={total('infra_spent')} "
            f"runs-stuck={total('stuck')} infra-budget-exhausted={total('infra_exhausted')} objects-leaked={total('leaked')} handler-errors={total('crashed_code')}")
