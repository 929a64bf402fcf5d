"""Capacity of the operator on simulated pods (KWOK): figures to watch, never pass/fail timings.

    .venv/bin/python bench/capacity.py              # the full benchmark (make bench)
    .venv/bin/python bench/capacity.py --smoke      # ~2 minutes: the harness works end to end
                                                    # (figures to _out/capacity-smoke.json)
    .venv/bin/python bench/capacity.py --drain-runs 1000 --rate 600 --duration 120

On the local cluster (hack/cluster), with KWOK's fake nodes (hack/cluster/kwok.sh up), it installs
an Updraft release of its own (the chart, namespaced: rbac.scope=namespaced, in its own
namespaces, task pods placed on the fake nodes with runner.nodeSelector/runner.tolerations) and
drives it through the Kubernetes API (parallel creates from one asyncio client, not kubectl):

- sustained: single-task EmptyOperator runs created at --rate per minute for --duration seconds;
  runs_per_minute is the completion rate in the steady window, and run_latency_p50_s/p99_s the
  time from a run's creation (the create call's return) to the watch event that shows it SUCCESS;
- drain: --drain-runs runs created at once (they queue behind quotas.maxConcurrentRuns); the time
  from the first create to the last SUCCESS is drain_<N>_s;
- soak: --soak-runs runs at --soak-rate per minute with retention on (runs.historyLimit
  --soak-history); soak_rss_growth_mb and what the API server stores at the end (capacity_soak);
- schedule: for each N of --schedule-workflows, N workflows firing every minute on the same
  minute; schedule_delay_p50_s_<N>/p99 from each fire time to its run's creation (capacity_schedule);
- api: --api-runs finished runs stored with the operator at 0 replicas, then GetWorkflowRun and
  ListWorkflowRuns timed through boto3 against `updraft api serve` (capacity_api);
- the operator's RSS and CPU, sampled from its /metrics (through the apiserver's pod proxy) or,
  failing that, /proc of its container's process on this host.

Pods on the fake nodes (kwok-node-0, kwok-node-1) are not real: kwok marks them Running at once
and Succeeded after KWOK_TASK_MS (1000 ms) with the runner's success report, so this measures the
control plane only (the operator, the apiserver, etcd, the scheduler). The cluster-wide Updraft
operator, if one is installed, watches every namespace; it is scaled to 0 while the benchmark runs
(as the namespaced e2e test does) and scaled back afterwards. Results are merged into
bench/out/bench.json (other keys are kept) and printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from capacity_api import api_phase, api_rows, result_keys  # noqa: E402
from capacity_schedule import schedule_phase  # noqa: E402
from results import merge_results  # noqa: E402
from capacity_soak import soak_phase  # noqa: E402
from capacity_cluster import (  # noqa: E402  (this directory is no package)
    CLUSTER, EMPTY, kubectl, GROUP, RELEASE, RELEASE_NS, RUN_NS, TOP, VERSION, install, kubeconfig, pause_cluster_wide_operators,
    percentile, proc_rss_mb, restore_operators, uninstall, versions)

OUT = TOP / "bench" / "out" / "bench.json"
SMOKE_OUT = TOP / "_out" / "capacity-smoke.json"
PHASE_LABEL = "bench.updraft.dev/phase"
DONE = ("SUCCESS", "FAILED", "STOPPED")


# ---- pure helpers -------------------------------------------------------------------------------

def rate_per_minute(done_at: Iterable[float], start: float, end: float) -> float | None:
    """Completions per minute inside [start, end)."""
    if end <= start:
        return None
    return sum(1 for t in done_at if start <= t < end) * 60 / (end - start)


def workflow_body(name: str, max_active_runs: int) -> dict[str, Any]:
    definition = (f"{name}:\n  schedule: None\n  max_active_runs: {max_active_runs}\n  tasks:\n"
                  f"    t:\n      operator: {EMPTY}\n")
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/capbench", "triggerMode": "manual_only",
                     "definition": definition}}


def run_body(name: str, workflow: str, phase: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowRun",
            "metadata": {"name": name, "labels": {PHASE_LABEL: phase}}, "spec": {"workflowName": workflow}}


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}{unit}"
    return f"{v}{unit}"


# ---- the measurement ----------------------------------------------------------------------------

@dataclass
class Ledger:
    """Client-side clock of every run: when its create returned, when a watch event showed it done."""
    created: dict[str, float] = field(default_factory=dict)
    done: dict[str, tuple[float, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def latencies(self, names: Iterable[str]) -> list[float]:
        return [self.done[n][0] - self.created[n] for n in names if n in self.done and n in self.created]


class Bench:
    def __init__(self, api: Any, args: argparse.Namespace) -> None:
        from kubernetes_asyncio import client
        self.client = client
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.args = args
        self.ledger = Ledger()
        self.samples: list[dict[str, Any]] = []
        self.sem = asyncio.Semaphore(args.parallel)
        self.runs_at = (GROUP, VERSION, RUN_NS, "workflowruns")  # where the runs are: group, version, namespace, plural

    def run_object(self, name: str, workflow: str, phase: str) -> dict[str, Any]:
        """The object one run is (a WorkflowRun here; another system's in a subclass)."""
        return run_body(name, workflow, phase)

    def run_state(self, obj: Mapping[str, Any]) -> str | None:
        """The final state of a run's object (one of DONE), or None while it is not final."""
        state = (obj.get("status") or {}).get("runState")
        return state if state in DONE else None

    async def placement(self) -> dict[str, int]:
        """Where the task pods are: all on the fake nodes, or the figures are not what they claim."""
        nodes: dict[str, int] = {}
        cont = None
        while True:
            page = await self.core.list_namespaced_pod(RUN_NS, limit=500, _continue=cont)
            for p in page.items:
                nodes[p.spec.node_name or "(unscheduled)"] = nodes.get(p.spec.node_name or "(unscheduled)", 0) + 1
            cont = page.metadata._continue
            if not cont:
                return nodes

    async def create_run(self, name: str, workflow: str, phase: str) -> None:
        async with self.sem:
            for attempt in range(5):
                try:
                    await self.custom.create_namespaced_custom_object(*self.runs_at,
                                                                      self.run_object(name, workflow, phase))
                    self.ledger.created[name] = time.time()
                    return
                except self.client.ApiException as e:
                    if e.status == 409:
                        self.ledger.created.setdefault(name, time.time())
                        return
                    if attempt == 4 or e.status not in (429, 500, 503, 504):
                        self.ledger.errors.append(f"create {name}: {e.status} {e.reason}")
                        return
                    await asyncio.sleep(0.5 * (attempt + 1))

    async def watch_runs(self) -> None:
        """Record the first time each run is seen finished; re-list after any watch break."""
        from kubernetes_asyncio import watch
        while True:
            try:
                listed = await self.custom.list_namespaced_custom_object(*self.runs_at)
                now = time.time()
                for obj in listed["items"]:
                    self._seen(obj, now)
                rv = listed["metadata"]["resourceVersion"]
                async with watch.Watch().stream(self.custom.list_namespaced_custom_object, *self.runs_at,
                                                resource_version=rv, timeout_seconds=120) as stream:
                    async for event in stream:
                        if event["type"] in ("ADDED", "MODIFIED"):
                            self._seen(event["object"], time.time())
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a broken or expired watch: list again
                self.ledger.errors.append(f"watch: {type(e).__name__}: {e}"[:200])
                await asyncio.sleep(1)

    def _seen(self, obj: Mapping[str, Any], now: float) -> None:
        state = self.run_state(obj)
        name = obj["metadata"]["name"]
        if state is not None and name not in self.ledger.done:
            self.ledger.done[name] = (now, state)

    async def sample_operator(self, phase: list[str]) -> None:
        """Every few seconds: the operator's RSS/CPU, restarts and the live task pods."""
        while True:
            try:
                self.samples.append({"t": time.time(), "phase": phase[0], **await self._operator_sample()})
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.ledger.errors.append(f"sample: {type(e).__name__}: {e}"[:200])
            await asyncio.sleep(self.args.sample_every)

    async def _operator_sample(self) -> dict[str, Any]:
        pods = (await self.core.list_namespaced_pod(
            RELEASE_NS, label_selector=f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=operator")).items
        if not pods:
            return {"rss_mb": None, "restarts": None}
        pod = pods[0]
        restarts = sum(c.restart_count for c in pod.status.container_statuses or [])
        rss, cpu, source = None, None, "/metrics"
        try:
            text = await self.operator_metrics(pod.metadata.name)
            for line in text.splitlines():
                if line.startswith("process_resident_memory_bytes "):
                    rss = float(line.split()[1]) / 2**20
                elif line.startswith("process_cpu_seconds_total "):
                    cpu = float(line.split()[1])
        except Exception:
            rss, source = proc_rss_mb(pod.metadata.uid), "/proc"
        # every pod in the run namespace is a task pod; with no selector, limit=1 tells the total
        one = await self.core.list_namespaced_pod(RUN_NS, limit=1)
        pods_now = len(one.items) + (one.metadata.remaining_item_count or 0)
        return {"rss_mb": rss, "cpu_s": cpu, "restarts": restarts, "task_pods": pods_now, "source": source}

    async def operator_metrics(self, pod: str | None = None) -> str:
        """The operator's /metrics, through the API server's pod proxy ("" when it has no pod)."""
        if pod is None:
            pods = (await self.core.list_namespaced_pod(
                RELEASE_NS, label_selector=f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=operator")).items
            if not pods:
                return ""
            pod = str(pods[0].metadata.name)
        return str(await self.core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:{self.args.metrics_port}",
                                                                               RELEASE_NS, "metrics"))

    async def setup_workflows(self) -> list[str]:
        names = [f"cap{i}" for i in range(self.args.workflows)]
        for n in names:
            try:
                await self.custom.create_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows",
                                                                  workflow_body(n, self.args.max_active_runs))
            except self.client.ApiException as e:
                if e.status != 409:
                    raise
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            wfs = (await self.custom.list_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows"))["items"]
            if sum(1 for w in wfs if (w.get("status") or {}).get("latestVersion")) >= len(names):
                return names
            await asyncio.sleep(1)
        raise SystemExit("capacity: the bench workflows got no version within 120 s (is the bench operator running?)")

    async def wait_done(self, names: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(n in self.ledger.done for n in names if n in self.ledger.created):
                return True
            await asyncio.sleep(1)
        return False

    async def sustained(self, workflows: list[str]) -> dict[str, Any]:
        a = self.args
        total = int(a.rate * a.duration / 60)
        names = [f"s-{i:06d}" for i in range(total)]
        t0 = time.time()
        tasks = []
        for i, n in enumerate(names):
            delay = t0 + i * 60 / a.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.create_run(n, workflows[i % len(workflows)], "sustained")))
        await asyncio.gather(*tasks)
        t_end = time.time()
        finished = await self.wait_done(names, a.settle)
        warm = t0 + min(a.warmup, a.duration / 3)
        steady = [n for n in names if n in self.ledger.created and self.ledger.created[n] >= warm]
        lat = self.ledger.latencies(steady)
        done_times = [self.ledger.done[n][0] for n in names if n in self.ledger.done]
        return {"offered_per_minute": a.rate, "duration_s": a.duration, "runs": len(names),
                "created": sum(1 for n in names if n in self.ledger.created),
                "create_achieved_per_minute": round(len(names) * 60 / max(t_end - t0, 1e-9), 1),
                "runs_per_minute": rate_per_minute(done_times, warm, t_end),
                "finished": sum(1 for n in names if n in self.ledger.done), "all_finished": finished,
                "failed": sum(1 for n in names if self.ledger.done.get(n, (0, ""))[1] != "SUCCESS"
                              and n in self.ledger.done),
                "latency_p50_s": percentile(lat, 50), "latency_p99_s": percentile(lat, 99),
                "latency_max_s": max(lat) if lat else None, "latency_samples": len(lat)}

    async def drain(self, workflows: list[str]) -> dict[str, Any]:
        n = self.args.drain_runs
        names = [f"d-{i:06d}" for i in range(n)]
        t0 = time.time()
        await asyncio.gather(*(self.create_run(x, workflows[i % len(workflows)], "drain") for i, x in enumerate(names)))
        t_created = time.time()
        finished = await self.wait_done(names, self.args.drain_timeout)
        done = [self.ledger.done[x][0] for x in names if x in self.ledger.done]
        return {"runs": n, "created": sum(1 for x in names if x in self.ledger.created),
                "create_s": round(t_created - t0, 1), "finished": len(done), "all_finished": finished,
                "drain_s": round(max(done) - t0, 1) if finished and done else None,
                "finished_per_minute": rate_per_minute(done, t0, max(done)) if done else None,
                "timeout_s": self.args.drain_timeout}


async def measure(args: argparse.Namespace, phase: str) -> dict[str, Any]:
    """One phase ("sustained" or "drain") against a fresh install; its figures and the operator's."""
    from kubernetes_asyncio import client, config
    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig(), client_configuration=cfg)
    cfg.connection_pool_maxsize = max(args.parallel * 2, 16)
    async with client.ApiClient(cfg) as api:
        bench = Bench(api, args)
        current = ["setup"]
        watcher = asyncio.create_task(bench.watch_runs())
        sampler = asyncio.create_task(bench.sample_operator(current))
        try:
            current[0] = phase
            if phase.startswith("schedule_"):
                results = await schedule_phase(bench.custom, bench.client, int(phase.split("_")[1]),
                                               parallel=args.parallel, operator_metrics=bench.operator_metrics)
                lag = results.pop("delays_s")
                results.update(runs_seen=len(lag), delay_p50_s=percentile(lag, 50), delay_p99_s=percentile(lag, 99),
                               delay_max_s=max(lag) if lag else None)
            elif phase == "soak":
                results = await soak_phase(bench, await bench.setup_workflows(), args.soak_runs, args.soak_rate,
                                           settle_s=90, metrics_text=lambda: kubectl("get", "--raw", "/metrics"))
            else:
                workflows = await bench.setup_workflows()
                results = await (bench.sustained(workflows) if phase == "sustained" else bench.drain(workflows))
            results["task_pods_by_node"] = await bench.placement()
        finally:
            for t in (watcher, sampler):
                t.cancel()
            await asyncio.gather(watcher, sampler, return_exceptions=True)
    samples = [x for x in bench.samples if x["phase"] == phase]
    rss = [x["rss_mb"] for x in samples if x.get("rss_mb") is not None]
    restarts = [x["restarts"] for x in samples if x.get("restarts") is not None]
    peak = max((x for x in samples if x.get("rss_mb") is not None), key=lambda x: x["rss_mb"], default=None)
    cpu = [x["cpu_s"] for x in samples if x.get("cpu_s") is not None]
    cpu_used = sum(b - a if b >= a else b for a, b in zip(cpu, cpu[1:]))  # a restart resets the counter
    results["operator"] = {"cpu_s": round(cpu_used, 1) if cpu else None,
                           "cpu_cores_avg": round(cpu_used / (samples[-1]["t"] - samples[0]["t"]), 2)
                           if len(cpu) > 1 else None,
                           "rss_mb_peak": round(max(rss), 1) if rss else None,
                           "rss_mb_median": round(percentile(rss, 50) or 0, 1) if rss else None,
                           "task_pods_at_peak": peak.get("task_pods") if peak else None,
                           "task_pods_max": max((x.get("task_pods") or 0 for x in samples), default=None),
                           "rss_mb_peak_1000_pods": max((x["rss_mb"] for x in samples if x.get("rss_mb") is not None
                                                         and (x.get("task_pods") or 0) >= 1000), default=None),
                           "restarts": (max(restarts) - min(restarts)) if restarts else None,
                           "samples": len(rss),
                           "rss_from_proc": sum(1 for x in samples if x.get("source") == "/proc")}
    results["errors"] = bench.ledger.errors[:20]
    results["error_count"] = len(bench.ledger.errors)
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    s, d = results.get("sustained") or {}, results.get("drain") or {}
    so, do = s.get("operator") or {}, d.get("operator") or {}
    peaks = [x for x in (so.get("rss_mb_peak"), do.get("rss_mb_peak")) if x is not None]
    rows = [("runs per minute, sustained", fmt(s.get("runs_per_minute")),
             f"offered {s.get('offered_per_minute', '-')}/min for {s.get('duration_s', '-')} s; "
             f"{s.get('finished', '-')}/{s.get('runs', '-')} finished"),
            ("run latency p50 (created -> SUCCESS)", fmt(s.get("latency_p50_s"), " s"),
             f"{s.get('latency_samples', 0)} runs after the warm-up"),
            ("run latency p99", fmt(s.get("latency_p99_s"), " s"), f"max {fmt(s.get('latency_max_s'), ' s')}"),
            (f"drain of {d.get('runs', '-')} runs", fmt(d.get("drain_s"), " s"),
             f"{d.get('finished', '-')}/{d.get('runs', '-')} finished, created in {d.get('create_s', '-')} s")]
    schedules = {k: v for k, v in results.items() if k.startswith("schedule_") and isinstance(v, dict)}
    for r in schedules.values():
        rows.append((f"schedule delay p50 / p99, {r['workflows']} workflows",
                     f"{fmt(r.get('delay_p50_s'), ' s')} / {fmt(r.get('delay_p99_s'), ' s')}",
                     f"{r.get('runs_seen')}/{r.get('runs_expected')} fires seen; max {fmt(r.get('delay_max_s'), ' s')}"))
        passes = r.get("operator_pass_delay") or {}
        rows.append((f"  of which waiting for a worker, {r['workflows']} workflows",
                     f"<= {fmt(passes.get('p50_le_s'), ' s')} / <= {fmt(passes.get('p99_le_s'), ' s')}",
                     f"the operator's own histogram (bucket bounds), {passes.get('count', '-')} passes"))
    for name, op in (("sustained", so), ("drain", do), ("soak", (results.get("soak") or {}).get("operator") or {}),
                     *((n, v.get("operator") or {}) for n, v in schedules.items())):
        if op:
            rows += [(f"operator RSS peak ({name})", fmt(op.get("rss_mb_peak"), " MB"),
                      f"median {fmt(op.get('rss_mb_median'), ' MB')}; {op.get('task_pods_at_peak')} task pods then, "
                      f"{op.get('task_pods_max')} at most"),
                     (f"operator CPU ({name})", fmt(op.get("cpu_s"), " s"), f"{fmt(op.get('cpu_cores_avg'))} cores on average"),
                     (f"operator restarts ({name})", fmt(op.get("restarts")), "")]
    api = results.get("api") or {}
    rows += api_rows(api) if api else []
    print(f"\nUpdraft capacity on KWOK pods ({'smoke' if args.smoke else 'full'}):")
    for label, value, note in rows:
        print(f"  {label:<40} {value:>12}   {note}")
    for name, r in (("sustained", s), ("drain", d)):
        off = {n: c for n, c in (r.get("task_pods_by_node") or {}).items() if not n.startswith("kwok-node-")}
        if off:
            print(f"  WARNING ({name}): task pods not on the KWOK nodes: {off} (runner.nodeSelector ignored?)")
        if r.get("error_count"):
            print(f"  client-side errors ({name}): {r['error_count']} (first: {r['errors'][:3]})")
    keys: dict[str, Any] = {}  # a phase not run leaves its keys as they were
    if s:
        keys.update(runs_per_minute=s.get("runs_per_minute"), run_latency_p50_s=s.get("latency_p50_s"),
                    run_latency_p99_s=s.get("latency_p99_s"))
    if d:
        keys[f"drain_{d['runs']}_s"] = d.get("drain_s")
    soaked = results.get("soak") or {}
    if soaked:
        stored = soaked.get("stored_after") or {}
        rows.append((f"soak of {soaked.get('runs')} runs: RSS growth", fmt(soaked.get("rss_growth_mb"), " MB"),
                     f"{fmt(soaked.get('rss_mb_early'), ' MB')} early -> {fmt(soaked.get('rss_mb_end'), ' MB')} at the end; "
                     f"{soaked.get('finished')}/{soaked.get('runs')} finished"))
        rows.append(("soak: stored at the end", f"{int(stored.get('workflowruns.updraft.dev', -1))} runs",
                     f"pods {stored.get('pods')}, secrets {stored.get('secrets')}, configmaps "
                     f"{stored.get('configmaps')}, events {stored.get('events')}, db {fmt(stored.get('db_bytes'))} B"))
        keys["soak_rss_growth_mb"] = soaked.get("rss_growth_mb")
    for r in schedules.values():
        keys[f"schedule_delay_p50_s_{r['workflows']}"] = r.get("delay_p50_s")
        keys[f"schedule_delay_p99_s_{r['workflows']}"] = r.get("delay_p99_s")
    if api:
        keys.update(result_keys(api["runs"], api["get_run"], api["list_runs"], api["api_rss_mb"]["after"].get("VmRSS")))
    if peaks:
        keys["operator_rss_mb_peak"] = max(peaks)
    at_1000 = [x for x in (so.get("rss_mb_peak_1000_pods"), do.get("rss_mb_peak_1000_pods")) if x is not None]
    if at_1000:  # the figure: RSS with 1,000 task pods alive (only when a phase reached them)
        keys["operator_rss_mb_1000_pods"] = max(at_1000)
    keys = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in keys.items()}
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_args = {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()}
    phases = {name: {**r, "at": at, "args": run_args, "wall_s": results.get("wall_s"),
                     "loadavg_1m_before_after": results.get("loadavg_1m_before_after")}
              for name, r in (("sustained", s), ("drain", d), ("soak", soaked), ("api", api), *schedules.items()) if r}
    previous: dict[str, Any] = {}
    if args.out.exists():
        try:
            previous = json.loads(args.out.read_text()).get("capacity") or {}
        except (json.JSONDecodeError, AttributeError):
            previous = {}
    # per phase: a drain-only run keeps the last sustained phase's detail, and the other way round
    detail = {**previous, **phases,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
              "versions": {k: v for k, v in versions().items() if k in ("K8S_VERSION", "ETCD_VERSION", "KWOK_VERSION")}}
    return merge_results(args.out, {**keys, "capacity": detail})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="about 2 minutes: small rate and drain, short timeouts")
    ap.add_argument("--rate", type=float, default=1000, help="runs created per minute in the sustained phase (0: skip)")
    ap.add_argument("--duration", type=float, default=180, help="seconds of the sustained phase")
    ap.add_argument("--warmup", type=float, default=30, help="seconds at the start of it left out of the figures")
    ap.add_argument("--settle", type=float, default=300, help="seconds to wait for the sustained runs to finish")
    ap.add_argument("--drain-runs", type=int, default=5000, help="runs created at once in the drain phase (0: skip)")
    ap.add_argument("--drain-timeout", type=float, default=1800, help="seconds before the drain is given up")
    ap.add_argument("--soak-runs", type=int, default=10000, help="runs of the soak phase (0: skip)")
    ap.add_argument("--soak-rate", type=float, default=1000, help="runs created per minute in the soak phase")
    ap.add_argument("--soak-history", type=int, default=20, help="runs.historyLimit (per workflow) during the soak")
    ap.add_argument("--schedule-workflows", default="100,1000",
                    help="comma-separated workflow counts for the schedule phase, each firing every minute ('': skip)")
    ap.add_argument("--api-runs", type=int, default=10000, help="runs stored for the api phase (0: skip)")
    ap.add_argument("--workflows", type=int, default=10, help="single-task workflows the runs are spread over")
    ap.add_argument("--max-active-runs", type=int, default=20, help="max_active_runs of each workflow")
    ap.add_argument("--parallel", type=int, default=32, help="concurrent create calls")
    ap.add_argument("--sample-every", type=float, default=5, help="seconds between operator samples")
    ap.add_argument("--metrics-port", type=int, default=8080)
    ap.add_argument("--task-ms", type=int, default=1000, help="how long a simulated task pod runs (KWOK_TASK_MS)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra chart value")
    ap.add_argument("--keep", action="store_true", help="leave the release, runs and kwok in place afterwards")
    ap.add_argument("--out", type=pathlib.Path, default=None,
                    help=f"JSON to merge into (default {OUT.relative_to(TOP)}; with --smoke {SMOKE_OUT.relative_to(TOP)})")
    args = ap.parse_args(argv)
    if args.smoke:
        args.rate, args.duration, args.warmup, args.settle = 60, 30, 5, 45
        args.drain_runs, args.drain_timeout, args.sample_every = 30, 60, 3
        args.schedule_workflows, args.soak_runs, args.api_runs = "", 0, 0
    if args.out is None:  # the smoke's figures are no benchmark: they stay out of the committed file
        args.out = SMOKE_OUT if args.smoke else OUT
    return args


def phase_values(phase: str, soak_history: int) -> list[str]:
    """Chart values a phase needs on top of the defaults: the soak's retention, room for the
    schedule phase's N workflows (quotas.maxWorkflows is 100 by default), no operator for the api
    phase."""
    if phase == "soak":
        return ["--set", f"runs.historyLimit={soak_history}"]
    if phase.startswith("schedule_"):
        return ["--set", f"quotas.maxWorkflows={max(100, int(phase.split('_')[1]) + 10)}"]
    if phase == "api":
        return ["--set", "operator.replicas=0"]  # stored runs, none to run
    return []


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    phases = ([("sustained")] if args.rate > 0 and args.duration > 0 else []) + (["drain"] if args.drain_runs else [])
    phases += (["soak"] if args.soak_runs else []) + [
        f"schedule_{int(n)}" for n in args.schedule_workflows.split(",") if n.strip()] + (["api"] if args.api_runs else [])
    kwok_was_up = subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "status"], capture_output=True).returncode == 0
    env = {**os.environ, "QUIET": "1", "KWOK_TASK_MS": str(args.task_ms)}
    subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "up"], check=True, env=env)
    saved = pause_cluster_wide_operators()
    t0, load_before = time.monotonic(), os.getloadavg()
    results: dict[str, Any] = {}
    try:
        for i, phase in enumerate(phases):  # each phase on a fresh install: no leftovers of the one before
            install([x for kv in args.set for x in ("--set", kv)] + phase_values(phase, args.soak_history))
            results[phase] = api_phase(args.api_runs, args.parallel) if phase == "api" else asyncio.run(measure(args, phase))
            if i < len(phases) - 1:
                uninstall(wait=True)
    finally:
        if not args.keep:
            uninstall()
        restore_operators(saved)
        if not args.keep and not kwok_was_up:
            subprocess.run(["bash", str(CLUSTER / "kwok.sh"), "down"], env=env, check=False)
    results["wall_s"] = round(time.monotonic() - t0, 1)
    # the machine is shared: how busy it was says how much to trust the figures
    results["loadavg_1m_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    report(results, args)
    print(f"  wall time {results['wall_s']} s; results merged into {args.out}")


if __name__ == "__main__":
    main()
