"""Tier 2 of the fault suite (issue 15): the real operator, under the chart's RBAC, behind a fault
proxy, on KWOK-simulated pods of the local cluster; seeded and replayable.

    .venv/bin/python tests/chaos/driver.py --profile short            # ~3 minutes (make test)
    .venv/bin/python tests/chaos/driver.py --profile full             # make chaos
    .venv/bin/python tests/chaos/driver.py --profile full --seed 42   # replay a seed's schedule

It makes a namespace of its own, the chart-RBAC ServiceAccount, the suite's workflows
(workflows.py), then creates the profile's runs evenly over its window while it injects the seed's
faults (schedule.py): operator SIGKILLs (random, and targeted right after a chosen write through
the proxy), proxy errors, stalls and watch cuts, API server restarts, pod deletes and evictions,
and (full profile, or --node-losses) the loss of the fake node kwok-node-1 (nodeloss.py).
Then it waits for every run to end and the clean-up to pass, reads the API server's audit log,
and prints the timeline, the findings and ONE summary line (judge.py). Exit status 0 only when
every count is 0 and the audit log covers the whole run. The cluster-wide Updraft operator, if
one runs, is scaled to 0 meanwhile and scaled back afterwards. Use the cluster lock around it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import pathlib
import random
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
TOP = HERE.parents[1]
sys.path[:0] = [str(HERE), str(TOP / "operator"), str(TOP / "bench")]

from audit import Audit, audit_files  # noqa: E402
from capacity_cluster import kubeconfig, kubectl, pause_cluster_wide_operators, restore_operators  # noqa: E402
from judge import Injected, Observed, judge, summary_line  # noqa: E402
from namespace import fresh_namespace, remove_namespace  # noqa: E402
from nodeloss import lose_node  # noqa: E402
from proxy import FaultProxy  # noqa: E402
from replica import Replica, proxied_kubeconfig, remove_rbac  # noqa: E402
from schedule import PROFILES, Fault, Profile, plan  # noqa: E402
from workflows import GROUP, SHAPES, VERSION, run_body, run_names, shape_order, workflow_body  # noqa: E402

CLUSTER = TOP / "hack" / "cluster"
NAMESPACE = "updraft-chaos"
MARKER = "chaos-audit-marker"
STUCK_AFTER_S = 180
MAX_FAULTS_PER_TASK = 2  # below the engine's bound of 3 infrastructure re-launches per task
FINAL = ("SUCCESS", "FAILED", "STOPPED")


class Driver:
    def __init__(self, args: argparse.Namespace, profile: Profile, seed: int, out: pathlib.Path) -> None:
        self.args, self.profile, self.seed, self.out = args, profile, seed, out
        self.rng = random.Random(seed ^ 0x5EED)  # the proxy's and the pod picks' choices
        self.t0 = time.monotonic()
        self.timeline: list[str] = []
        self.created: dict[str, str] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.last_change: dict[str, float] = {}
        self.stuck: set[str] = set()
        self.pod_faults: set[str] = set()
        self.faulted_tasks: dict[tuple[str, str], int] = {}  # (run, task) -> pod faults so far
        self.kills = self.targeted = self.restarts = self.pod_fault_count = self.proxy_faults = self.pauses = 0
        self.node_losses = 0
        self.lost_nodes: set[str] = set()  # nodes a node loss works on: no pod faults on their pods
        self.leader = 0 if profile.replicas == 1 else -1  # the replica holding the Lease (-1: none known)
        self.exits: list[str] = []
        self.replicas: list[Replica] = []
        self.proxy: FaultProxy | None = None

    def note(self, what: str) -> None:
        line = f"t={time.monotonic() - self.t0:7.1f}s {what}"
        self.timeline.append(line)
        print(f"[chaos] {line}", flush=True)

    # -- the operator and its faults ---------------------------------------------------------
    def killed(self, replica: int, what: str) -> None:
        """The proxy saw an armed write applied: SIGKILL now, start again shortly."""
        r = self.replicas[replica]
        if r.kill():
            self.targeted += 1
            delay = round(self.rng.uniform(0.5, 3.0), 1)
            self.note(f"targeted kill of operator {replica} right after {what}; restart in {delay}s")
            r.restart_later(delay)

    async def current_leader(self, wait_s: float) -> int:
        """The replica holding the Lease, waiting up to `wait_s` for one (a handover takes seconds)."""
        deadline = time.monotonic() + wait_s
        while self.leader < 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        return self.leader

    async def inject(self, fault: Fault, core: Any) -> None:
        assert self.proxy is not None
        index = await self.current_leader(10 if fault.kind == "kill" else 20) if fault.kind in (
            "kill", "leader-pause") else 0
        if index < 0 and fault.kind in ("kill", "leader-pause"):
            self.note(f"{fault.kind} skipped: no replica leads right now")
            return
        leader = self.replicas[index]
        if fault.kind == "kill":
            if leader.kill():
                self.kills += 1
                leader.restart_later(fault.detail["restart_after_s"])
                self.note(f"kill operator {leader.index} (SIGKILL); restart in {fault.detail['restart_after_s']}s")
            else:
                self.note(f"kill skipped: operator {leader.index} is down already")
        elif fault.kind == "leader-pause":
            self.proxy.freeze(leader.index, fault.detail["seconds"])
            self.pauses += 1
            self.note(f"leader pause: operator {leader.index} ({leader.identity}) frozen for "
                      f"{fault.detail['seconds']}s (the proxy holds all its traffic both ways)")
        elif fault.kind == "kill-after":
            self.proxy.arm_kill(fault.detail["target"])
            self.note(f"armed: kill right after the next {fault.detail['target']}")
        elif fault.kind == "apiserver-restart":
            self.note("apiserver restart: begins")
            proc = await asyncio.to_thread(subprocess.run, ["bash", str(CLUSTER / "apiserver.sh"), "restart"],
                                           capture_output=True, text=True, env={**os.environ, "QUIET": "1"})
            if proc.returncode == 0:
                self.restarts += 1
                self.note(f"apiserver restart: ready again after {proc.stdout.strip()}s")
            else:
                self.note(f"apiserver restart FAILED: {proc.stderr.strip()[-300:]}")
        elif fault.kind == "pod-fault":
            await self.pod_fault(core, fault.detail["how"])
        elif fault.kind == "node-loss":
            await self.node_loss(core, fault.detail["node"], fault.detail["down_s"])
        elif fault.kind == "errors":
            d = fault.detail
            self.proxy.errors(d["code"], d["share"], d["seconds"], d["after_applying"])
            self.proxy_faults += 1
            self.note(f"proxy answers {d['code']} to {int(d['share'] * 100)}% of calls for {d['seconds']}s"
                      f"{' after applying them' if d['after_applying'] else ''}")
        elif fault.kind == "stall":
            self.proxy.stall(fault.detail["seconds"])
            self.proxy_faults += 1
            self.note(f"proxy holds every call for {fault.detail['seconds']}s")
        elif fault.kind == "cut-watches":
            self.proxy.cut_watches()
            self.proxy_faults += 1

    async def pod_fault(self, core: Any, how: str) -> None:
        from kubernetes_asyncio import client
        try:
            pods = [p for p in (await core.list_namespaced_pod(NAMESPACE)).items
                    if p.status.phase in ("Pending", "Running")]
        except Exception as e:  # the apiserver restarting, say
            self.note(f"pod fault skipped: listing pods failed: {type(e).__name__}")
            return
        candidates = [p for p in pods if not p.metadata.deletion_timestamp
                      and p.spec.node_name not in self.lost_nodes  # a node loss's pods are its own
                      and self.faulted_tasks.get((p.metadata.labels.get("updraft.dev/run"),
                                                  p.metadata.labels.get("updraft.dev/task")), 0) < MAX_FAULTS_PER_TASK]
        if not candidates:
            self.note("pod fault skipped: no live task pod with a fault left")
            return
        pod = self.rng.choice(sorted(candidates, key=lambda p: p.metadata.name))
        name = pod.metadata.name
        try:
            if how == "evict":
                await core.create_namespaced_pod_eviction(name, NAMESPACE, client.V1Eviction(
                    metadata=client.V1ObjectMeta(name=name, namespace=NAMESPACE)))
            else:
                await core.delete_namespaced_pod(name, NAMESPACE)
        except client.ApiException as e:
            self.note(f"pod fault: {how} {name} refused ({e.status})")
            return
        self.pod_faults.add(name)
        key = (pod.metadata.labels["updraft.dev/run"], pod.metadata.labels["updraft.dev/task"])
        self.faulted_tasks[key] = self.faulted_tasks.get(key, 0) + 1
        self.pod_fault_count += 1
        self.note(f"pod fault: {how} {name}")

    async def node_loss(self, core: Any, node: str, down_s: float) -> None:
        self.lost_nodes.add(node)
        try:
            lost = await lose_node(core, NAMESPACE, node, down_s, self.note)
        except Exception as e:  # the suite goes on; the timeline says why this fault is missing
            self.note(f"node loss of {node} broke off: {type(e).__name__}: {e}")
            return
        finally:
            self.lost_nodes.discard(node)
        if lost is None:
            return
        self.node_losses += 1
        for pod in lost.lost_attempts:  # as pod faults: each may be relaunched once, under a new name
            self.pod_faults.add(pod)
            self.faulted_tasks[lost.tasks[pod]] = self.faulted_tasks.get(lost.tasks[pod], 0) + 1

    # -- runs ----------------------------------------------------------------------------------
    async def create_run(self, custom: Any, name: str, shape: str) -> None:
        from kubernetes_asyncio import client
        for attempt in range(30):
            try:
                await custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflowruns",
                                                             run_body(name, shape))
                break
            except client.ApiException as e:
                if e.status == 409:  # an earlier try was applied
                    break
                if e.status not in (429, 500, 503, 504):
                    self.note(f"run {name} not created: {e.status} {e.reason}")
                    return
            except Exception:  # the apiserver restarting: connection refused
                pass
            await asyncio.sleep(1 + attempt * 0.5)
        else:
            self.note(f"run {name} not created after 30 tries")
            return
        self.created[name] = shape
        self.last_change.setdefault(name, time.monotonic())

    async def watch_runs(self, custom: Any) -> None:
        from kubernetes_asyncio import watch
        while True:
            try:
                listed = await custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflowruns")
                for obj in listed["items"]:
                    self.seen(obj)
                async with watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, NAMESPACE,
                                                "workflowruns", resource_version=listed["metadata"]["resourceVersion"],
                                                timeout_seconds=60) as stream:
                    async for event in stream:
                        if event["type"] in ("ADDED", "MODIFIED"):
                            self.seen(event["object"])
            except asyncio.CancelledError:
                raise
            except Exception:  # a cut or expired watch, the apiserver restarting: list again
                await asyncio.sleep(1)

    def seen(self, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        old = (self.bodies.get(name) or {}).get("status")
        self.bodies[name] = obj
        if obj.get("status") != old:
            self.last_change[name] = time.monotonic()

    async def watch_progress(self) -> None:
        while True:
            now = time.monotonic()
            for name in self.created:
                state = ((self.bodies.get(name) or {}).get("status") or {}).get("runState")
                if state not in FINAL and name not in self.stuck and now - self.last_change.get(name, now) > STUCK_AFTER_S:
                    self.stuck.add(name)
                    self.note(f"run {name} stuck: no progress for {STUCK_AFTER_S}s (state {state})")
            await asyncio.sleep(5)

    async def supervise(self, api: Any) -> None:
        """As a Deployment would: a replica that exits by itself (lost its Lease, crashed) is
        started again; with replicas, who holds the Lease (for kills and pauses)."""
        from kubernetes_asyncio import client
        leases = client.CoordinationV1Api(api)
        while True:
            for r in self.replicas:
                if not r.alive and r.restart is None:
                    self.exits.append(f"{r.identity}: {r.exit_codes()}")
                    self.note(f"operator {r.index} ({r.identity}) exited by itself with {r.exit_codes()}; restart in 1s")
                    r.restart_later(1.0)
            if len(self.replicas) > 1:
                try:
                    lease = await leases.read_namespaced_lease("updraft-operator", NAMESPACE)
                    holder = lease.spec.holder_identity
                    now = next((r.index for r in self.replicas if r.identity == holder and r.alive), -1)
                    if now != self.leader:
                        self.note(f"leader: {holder if now >= 0 else 'none'}")
                    self.leader = now
                except Exception:
                    pass
            await asyncio.sleep(1)

    def unfinished(self) -> list[str]:
        return [n for n in self.created if ((self.bodies.get(n) or {}).get("status") or {}).get("runState") not in FINAL]

    # -- the whole run -------------------------------------------------------------------------
    async def run(self) -> int:
        from kubernetes_asyncio import client, config
        admin = kubeconfig()
        cfg = client.Configuration()
        await config.load_kube_config(config_file=admin, client_configuration=cfg)
        async with client.ApiClient(cfg) as api:
            core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
            await fresh_namespace(core, custom, NAMESPACE)
            start = datetime.now(timezone.utc)
            await core.create_namespaced_secret(NAMESPACE, {"metadata": {"name": MARKER}, "stringData": {"x": "1"}})
            self.proxy = FaultProxy(upstream=cfg.host, ca_file=cfg.ssl_ca_cert, on_kill=self.killed, log=self.note,
                                    rng=self.rng, leader=lambda: self.leader)
            n = self.profile.replicas
            for i, port in enumerate(await self.proxy.start(n)):
                kc = self.out / f"operator-{i}.kubeconfig"
                await proxied_kubeconfig(admin, NAMESPACE, kc, port)
                self.replicas.append(Replica(i, kc, NAMESPACE, self.out, replicas=n))
            for r in self.replicas:
                r.start()
            tasks = [asyncio.create_task(self.watch_runs(custom)), asyncio.create_task(self.watch_progress()),
                     asyncio.create_task(self.supervise(api))]
            try:
                await self.setup_workflows(custom)
                await self.window(core, custom)
                await self.settle(core)
                final = await self.final_state(core, custom)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                for r in self.replicas:
                    r.stop()
                await self.proxy.close()
            whole = Audit.read(audit_files(pathlib.Path(kubeconfig()).parent / "logs" / "audit.log"), NAMESPACE)
            this_run = whole.since_marker(MARKER)
            complete = this_run is not None
            audit = this_run or Audit()
            # a run deleted by the workflow's history limit after it ended is not lost: its last
            # state as the watch saw it stands in for the listing
            ended = {**self.bodies, **final["runs"]}
            observed = Observed(created=dict(self.created), final=ended,
                                pod_creations=audit.pod_creations(), pod_faults=frozenset(self.pod_faults),
                                stuck=frozenset(self.stuck), left_secrets=tuple(final["secrets"]),
                                left_pods=tuple(final["pods"]))
            verdict = judge(observed)
            (self.out / "observed.json").write_text(json.dumps({
                "created": observed.created, "final": {k: v.get("status") for k, v in observed.final.items()},
                "pod_creations": observed.pod_creations, "pod_faults": sorted(observed.pod_faults),
                "stuck": sorted(observed.stuck), "left_secrets": observed.left_secrets,
                "left_pods": observed.left_pods}, indent=1, default=str))
            injected = Injected(runs=len(self.created), kills=self.kills, targeted_kills=self.targeted,
                                apiserver_restarts=self.restarts, leader_pauses=self.pauses, pod_faults=self.pod_fault_count,
                                node_losses=self.node_losses, proxy_faults=self.proxy_faults)
            line = summary_line("tier 2 (KWOK)", self.seed, self.profile.name, injected, verdict, complete)
            print(f"[chaos] audit log: {sum(len(u) for u in observed.pod_creations.values())} pod creates, "
                  f"{len(audit.secret_creations())} secret creates since {start.isoformat(timespec='seconds')}"
                  f"{'' if complete else ' (INCOMPLETE: the marker Secret is not in it)'}")
            gone = sorted(set(self.bodies) - set(final["runs"]))
            if gone:
                print(f"[chaos] {len(gone)} ended runs deleted by their workflow's history limit: judged as last seen")
            for d in verdict.details():
                print(f"[chaos] finding: {d}")
            if self.proxy.armed:
                print(f"[chaos] armed kills that never fired: {', '.join(self.proxy.armed)}")
            print(line, flush=True)
            (self.out / "summary.json").write_text(json.dumps({
                "line": line, "seed": self.seed, "profile": self.profile.name, "timeline": self.timeline,
                "findings": verdict.details(1000), "wall_s": round(time.monotonic() - self.t0, 1)}, indent=1))
            if not self.args.keep:
                await remove_namespace(core, custom, NAMESPACE)
            return 0 if verdict.clean and complete else 1

    async def setup_workflows(self, custom: Any) -> None:
        for shape in SHAPES:
            await custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflows", workflow_body(shape))
        for _ in range(120):
            wfs = (await custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflows"))["items"]
            if sum(1 for w in wfs if (w.get("status") or {}).get("latestVersion")) == len(SHAPES):
                self.note(f"{len(SHAPES)} workflows have their versions; the window opens")
                return
            await asyncio.sleep(1)
        raise SystemExit("chaos: the workflows got no version in 120 s (see the operator log in "
                         f"{self.out})")

    async def window(self, core: Any, custom: Any) -> None:
        p = self.profile
        order = shape_order()
        random.Random(self.seed).shuffle(order)
        runs = run_names(p.runs, order)
        faults = plan(self.seed, p)
        t0 = time.monotonic()
        creating = []
        fi = 0
        spacing = p.seconds * 0.9 / max(1, len(runs))
        for i, (name, shape) in enumerate(runs):
            due = t0 + i * spacing
            while fi < len(faults) and t0 + faults[fi].at <= due:
                await asyncio.sleep(max(0.0, t0 + faults[fi].at - time.monotonic()))
                creating.append(asyncio.create_task(self.inject(faults[fi], core)))
                fi += 1
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            creating.append(asyncio.create_task(self.create_run(custom, name, shape)))
        for f in faults[fi:]:
            await asyncio.sleep(max(0.0, t0 + f.at - time.monotonic()))
            creating.append(asyncio.create_task(self.inject(f, core)))
        await asyncio.gather(*creating)
        await asyncio.sleep(max(0.0, t0 + p.seconds - time.monotonic()))
        assert self.proxy is not None
        self.note(f"window closed: {len(self.created)} runs created; "
                  f"{len(self.proxy.armed)} armed kills disarmed unfired")
        self.proxy.armed.clear()
        for r in self.replicas:  # a kill's restart still pending happens now
            if not r.alive:
                r.start()

    async def settle(self, core: Any) -> None:
        deadline = time.monotonic() + self.args.settle
        while self.unfinished() and time.monotonic() < deadline:
            await asyncio.sleep(2)
        left = self.unfinished()
        self.note(f"settled: {len(self.created) - len(left)} runs ended, {len(left)} not")
        # the clean-up: pods 5 s after their run ends, token Secrets when their attempt ends
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pods = (await core.list_namespaced_pod(NAMESPACE)).items
            secrets = [s for s in (await core.list_namespaced_secret(NAMESPACE)).items
                       if s.metadata.name.endswith("-token")]
            if not pods and not secrets:
                break
            await asyncio.sleep(2)

    async def final_state(self, core: Any, custom: Any) -> dict[str, Any]:
        runs = (await custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflowruns"))["items"]
        pods = (await core.list_namespaced_pod(NAMESPACE)).items
        secrets = (await core.list_namespaced_secret(NAMESPACE)).items
        return {"runs": {r["metadata"]["name"]: r for r in runs},
                "pods": sorted(p.metadata.name for p in pods),
                "secrets": sorted(s.metadata.name for s in secrets if s.metadata.name.endswith("-token"))}

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="short")
    ap.add_argument("--short", action="store_const", const="short", dest="profile", help="the same as --profile short")
    ap.add_argument("--seed", type=int, default=None, help="replay this seed (default: a new one, printed)")
    ap.add_argument("--settle", type=float, default=None, help="seconds to wait for the runs to end after the window")
    ap.add_argument("--keep", action="store_true", help="leave the namespace and its objects afterwards")
    ap.add_argument("--node-losses", type=int, default=None,
                    help="node losses instead of the profile's (FULL 1, SHORT 0); the seed's other faults stay")
    args = ap.parse_args(argv)
    if args.settle is None:
        args.settle = 180 if args.profile == "full" else 120
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = PROFILES[args.profile]
    if args.node_losses is not None:
        profile = dataclasses.replace(profile, node_losses=args.node_losses)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    out = TOP / "_out" / "chaos" / f"{profile.name}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"[chaos] tier 2, profile {profile.name}, seed {seed} (replay: --profile {profile.name} --seed {seed}); "
          f"logs in {out}", flush=True)
    env = {**os.environ, "QUIET": "1"}
    # the oracle: an apiserver that writes the audit log (up.sh restarts one started without it,
    # say by an older up.sh; a no-op otherwise)
    subprocess.run(["bash", str(CLUSTER / "up.sh")], check=True, env=env)
    args_file = pathlib.Path(kubeconfig()).parent / "run" / "kube-apiserver.args"
    if "--audit-log-path" not in args_file.read_text():
        raise SystemExit(f"chaos: the apiserver writes no audit log ({args_file}): run this checkout's up.sh")
    kwok_was_up = subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "status"], capture_output=True).returncode == 0
    subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "up"], check=True, env=env)
    if kubectl("get", "crd", "workflowruns.updraft.dev", "--ignore-not-found", "-o", "name").strip() == "":
        kubectl("apply", "--server-side", "-f", str(TOP / "crds"))  # no chart installed yet
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    saved = pause_cluster_wide_operators()
    try:
        return asyncio.run(Driver(args, profile, seed, out).run())
    finally:
        asyncio.run(remove_rbac(kubeconfig(), NAMESPACE))
        restore_operators(saved)
        if not kwok_was_up and not args.keep:
            subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "down"], env=env, check=False)


if __name__ == "__main__":
    sys.exit(main())
