"""Updraft and Argo Workflows on KWOK's simulated pods (issue 18): the control planes alone.

    .venv/bin/python bench/peers/run.py --kwok [--systems updraft,argo_tuned,argo]
                                        [--kwok-rate 600] [--kwok-duration 120] [--kwok-drain 1000]

Each system gets two phases, each in a hold of its own of the cluster lock, with the capacity
benchmark's parameters and code (bench/capacity.py: its `Bench` creates the runs, 32 creates in
flight, and clocks them):
- sustained: single-task runs created at --kwok-rate per minute for --kwok-duration seconds;
  `runs_per_minute` is the completion rate from the end of the 30 s warm-up to the last create
  (capacity.rate_per_minute), `run_latency_p50_s`/`p99_s` the time from a run's create call
  returning to the watch first showing it final, over the runs created after the warm-up;
- drain: --kwok-drain runs created at once; `drain_<N>_s` is the time from the first create to the
  last final (none when they did not all finish within --drain-timeout, 600 s).

Task pods land on KWOK's fake nodes (hack/cluster/kwok.sh): Running at once, Succeeded
KWOK_TASK_MS (1 s) later. An Argo pod's stage first writes the WorkflowTaskResult that Argo's
`wait` container would (Argo v3.7 holds a node open until it exists). kwok v0.8.0 maps the
argoproj.io kinds lazily (its REST mapper asks discovery on the first miss), so the CRDs only have
to exist before the first Argo pod ends, not before kwok starts; they are applied first anyway.

- `updraft`: bench/capacity.py as it is (a namespaced chart release of its own, task pods on the
  fake nodes, the cluster-wide operator paused meanwhile, a fresh install per phase, the runs
  spread over 10 workflows). Its figures also land in bench/out/logs/kwok-updraft-<phase>.json.
- `argo`, `argo_tuned`: workflow-controller v3.7.18 (peer_argo.Controller, a host process) at its
  defaults or with DEFAULT_REQUEUE_TIME=1s. Each run is one Workflow: peer_manifests.argo_workflow
  of the `single` shape with KWOK_PLACEMENT. Pod GC as on real pods (OnWorkflowCompletion: kwok
  removes a deleted pod at once). Finished Workflows are kept during a phase, as Updraft keeps its
  runs, and go with the namespace after it. Argo's controller deletes a completed Workflow's task
  results itself (operator.go: deleteTaskResults); their owner reference catches any it misses.

Fairness: no admission limit on either system. Argo has none by default (no `parallelism` in its
ConfigMap or the Workflows); its own client limits stay at their defaults (QPS 20, burst 30, 32
workflow workers), as they are part of what `argo` means. Updraft's chart caps runs RUNNING at
once (`quotas.maxConcurrentRuns` 100, `maxActiveRunsPerWorkflow` 20, kept by the capacity figures
in docs/performance.md); here both are lifted (2000 in the cluster, 200 for each of the 10
workflows, more than a phase ever has queued), so neither system holds runs back by policy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, ContextManager, Mapping

import peer_argo
import peer_manifests as manifests
import peer_procstats as procstats
from peer_cluster import CLUSTER, TOP, kubectl
from peer_shapes import single

sys.path.insert(0, str(TOP / "bench"))
import capacity  # noqa: E402  (bench/capacity.py; bench/ is no package)

SYSTEMS = ("updraft", "argo", "argo_tuned")
PHASES = ("sustained", "drain")
ARGO_NS = "peers-kwok-argo"
LOGS = TOP / "bench" / "out" / "logs"
WORKFLOWS, MAX_RUNNING = 10, 2000  # Updraft's quotas, lifted: see the module's docstring
SETTLE_S, DRAIN_TIMEOUT_S = 240, 600  # each phase's hold stays within the lock's 15 minutes
ARGO_FINAL = {"Succeeded": "SUCCESS", "Failed": "FAILED", "Error": "FAILED"}  # capacity's states
KEPT = ("offered_per_minute", "duration_s", "runs", "created", "create_achieved_per_minute", "finished",
        "all_finished", "failed", "latency_max_s", "latency_samples", "create_s", "finished_per_minute",
        "timeout_s", "task_pods_by_node", "operator", "control_plane", "error_count", "at",
        "loadavg_1m_before_after")


# ---- pure parts ---------------------------------------------------------------------------------

def capacity_argv(phase: str, rate: float, duration: float, drain_runs: int, out: Path) -> list[str]:
    """bench/capacity.py's arguments for one phase, quota-free; both systems run with these."""
    per_workflow = MAX_RUNNING // WORKFLOWS
    common = ["--soak-runs", "0", "--schedule-workflows", "", "--api-runs", "0",
              "--settle", str(SETTLE_S), "--drain-timeout", str(DRAIN_TIMEOUT_S),
              "--workflows", str(WORKFLOWS), "--max-active-runs", str(per_workflow),
              "--set", f"quotas.maxConcurrentRuns={MAX_RUNNING}",
              "--set", f"quotas.maxActiveRunsPerWorkflow={per_workflow}", "--out", str(out)]
    if phase == "sustained":
        return ["--rate", f"{rate:g}", "--duration", f"{duration:g}", "--drain-runs", "0", *common]
    if phase == "drain":
        return ["--rate", "0", "--drain-runs", str(drain_runs), *common]
    raise ValueError(f"unknown phase {phase!r}")


def argo_run(name: str) -> dict[str, Any]:
    """One Argo run: the one-task workflow of the real-pod series, its pods on the fake nodes."""
    return manifests.argo_workflow(single(), name, "noop", placement=manifests.KWOK_PLACEMENT)


def kwok_entry(phases: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A system's `kwok` entry in peers.json from its phases' results (capacity's keys)."""
    def r(v: Any) -> Any:
        return round(v, 2) if isinstance(v, float) else v

    out: dict[str, Any] = {}
    s, d = phases.get("sustained"), phases.get("drain")
    if s:
        out.update(runs_per_minute=r(s.get("runs_per_minute")), run_latency_p50_s=r(s.get("latency_p50_s")),
                   run_latency_p99_s=r(s.get("latency_p99_s")), offered_per_minute=s.get("offered_per_minute"))
    if d:
        out[f"drain_{d['runs']}_s"] = r(d.get("drain_s"))
        out["drain_finished"] = f"{d.get('finished')}/{d.get('runs')}"
    for name, p in phases.items():
        out[name] = {k: r(p[k]) for k in KEPT if k in p}
    return out


def pods_by_node(node_of: Mapping[str, str]) -> dict[str, int]:
    """Task pods per node; a pod only ever seen unscheduled counts as "(unscheduled)"."""
    out: dict[str, int] = {}
    for node in node_of.values():
        out[node or "(unscheduled)"] = out.get(node or "(unscheduled)", 0) + 1
    return dict(sorted(out.items()))


def merge_kwok(doc: dict[str, Any], system: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """peers.json with `entry` merged into doc[system]["kwok"]: the real-pod figures beside it and a
    phase measured earlier stay."""
    current = doc.setdefault(system, {}).setdefault("kwok", {})
    current.update(entry)
    return doc


# ---- Argo, through capacity's Bench ------------------------------------------------------------

class ArgoBench(capacity.Bench):
    """capacity's Bench (its ledger, clock, sustained and drain phases) with Argo Workflows as runs."""

    def __init__(self, api: Any, args: argparse.Namespace, namespace: str) -> None:
        super().__init__(api, args)
        self.namespace = namespace
        self.runs_at = (peer_argo.GROUP, peer_argo.VERSION, namespace, "workflows")
        self.node_of: dict[str, str] = {}  # task pod -> its node ("" while unscheduled)

    def run_object(self, name: str, workflow: str, phase: str) -> dict[str, Any]:
        return argo_run(name)

    def run_state(self, obj: Mapping[str, Any]) -> str | None:
        return ARGO_FINAL.get((obj.get("status") or {}).get("phase", ""))

    async def tally_nodes(self, every_s: float = 5) -> None:
        """Which node each task pod was seen on (sampled: pods go when their workflow ends)."""
        while True:
            for pod in (await self.core.list_namespaced_pod(self.namespace)).items:
                self.node_of[pod.metadata.name] = pod.spec.node_name or self.node_of.get(pod.metadata.name, "")
            await asyncio.sleep(every_s)


async def argo_phase(args: argparse.Namespace, phase: str, namespace: str) -> dict[str, Any]:
    from kubernetes_asyncio import client, config
    cfg = client.Configuration()
    await config.load_kube_config(config_file=capacity.kubeconfig(), client_configuration=cfg)
    cfg.connection_pool_maxsize = max(args.parallel * 2, 16)
    async with client.ApiClient(cfg) as api:
        bench = ArgoBench(api, args, namespace)
        helpers = [asyncio.create_task(bench.watch_runs()), asyncio.create_task(bench.tally_nodes())]
        try:
            runs = ["single"]  # Bench's workflow names: unused, an Argo Workflow is its own definition
            results = await (bench.sustained(runs) if phase == "sustained" else bench.drain(runs))
        finally:
            for t in helpers:
                t.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
    results["task_pods_by_node"] = pods_by_node(bench.node_of)
    results["errors"], results["error_count"] = bench.ledger.errors[:20], len(bench.ledger.errors)
    return results


# ---- the phases on the cluster (each under the lock) --------------------------------------------

def kwok_up() -> None:
    env = {**os.environ, "QUIET": "1", "KWOK_TASK_MS": "1000"}  # capacity's --task-ms default
    subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "up"], check=True, env=env)


def delete_namespace(wait: bool) -> None:
    kubectl("delete", "ns", ARGO_NS, "--ignore-not-found", f"--wait={str(wait).lower()}", "--timeout=300s",
            check=False)


def run_argo(system: str, phase: str, cap_args: argparse.Namespace, bin_dir: Path) -> dict[str, Any]:
    delete_namespace(wait=True)  # a previous phase's Workflows
    peer_argo.install(bin_dir, ARGO_NS)  # the CRDs before any Argo pod reaches kwok
    kwok_up()
    load = os.getloadavg()[0]
    try:
        with peer_argo.Controller(bin_dir, LOGS / f"kwok-{system}-controller.log",
                                  "1s" if system == "argo_tuned" else None) as ctl:
            groups = {"controller": [ctl.pid] if ctl.pid else [],
                      "kube-apiserver": procstats.find_pids("kube-apiserver", "--etcd-servers"),
                      "etcd": procstats.find_pids("etcd", "--data-dir")}
            with procstats.Sampler(groups, period=2.0) as sampler:
                result = asyncio.run(argo_phase(cap_args, phase, ARGO_NS))
            result["control_plane"] = sampler.summary()
    finally:
        delete_namespace(wait=True)  # its Workflows, task results and pods: the next phase starts empty
    result["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["loadavg_1m_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return result


def run_updraft(phase: str, argv: list[str], out: Path) -> dict[str, Any]:
    kwok_up()  # up before capacity looks: it then leaves kwok running afterwards
    out.unlink(missing_ok=True)
    capacity.main(argv)
    return dict(json.loads(out.read_text())["capacity"][phase])


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--kwok", action="store_true",
                    help="Updraft and Argo on KWOK's simulated pods: runs per minute sustained and a drain "
                         "(bench/peers/peer_kwok.py); results into each system's `kwok` entry")
    ap.add_argument("--kwok-rate", type=float, default=600, help="--kwok: runs offered per minute")
    ap.add_argument("--kwok-duration", type=float, default=120, help="--kwok: seconds of the sustained phase")
    ap.add_argument("--kwok-drain", type=int, default=1000, help="--kwok: runs created at once (0: no drain)")
    ap.add_argument("--kwok-phases", default="sustained,drain", help="--kwok: which phases")


def main(args: argparse.Namespace, lock: Callable[[], ContextManager[Any]], out: Path) -> None:
    systems = [s for s in args.systems.split(",") if s]
    phases = [p for p in args.kwok_phases.split(",") if p]
    if set(systems) - set(SYSTEMS) or set(phases) - set(PHASES):
        raise SystemExit(f"peers --kwok: systems among {', '.join(SYSTEMS)}, phases among {', '.join(PHASES)}")
    deadline = time.time() + args.deadline_s
    bin_dir = peer_argo.build() if any(s.startswith("argo") for s in systems) else Path()
    for system in systems:
        done: dict[str, dict[str, Any]] = {}
        for phase in phases:
            if time.time() > deadline:
                print(f"{system} {phase}: skipped, past --deadline-s", flush=True)
                continue
            log = LOGS / f"kwok-{system}-{phase}.json"
            argv = capacity_argv(phase, args.kwok_rate, args.kwok_duration, args.kwok_drain, log)
            print(f"{system} on KWOK, {phase}: bench/capacity.py {' '.join(argv)}", flush=True)
            with lock():
                if system == "updraft":
                    done[phase] = run_updraft(phase, argv, log)
                else:
                    done[phase] = run_argo(system, phase, capacity.parse_args(argv), bin_dir)
                    log.parent.mkdir(parents=True, exist_ok=True)
                    log.write_text(json.dumps(done[phase], indent=2, default=str) + "\n")
            entry = kwok_entry({phase: done[phase]})
            print(f"{system} {phase}: {json.dumps({k: v for k, v in entry.items() if k not in PHASES})}", flush=True)
            try:
                doc = json.loads(out.read_text())
            except (OSError, ValueError):
                doc = {}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(merge_kwok(doc, system, entry), indent=2, sort_keys=True) + "\n")
    print(f"written to {out}", flush=True)
