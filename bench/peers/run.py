"""Updraft beside Argo Workflows on the local cluster, with real pods (issue 18).

    .venv/bin/python bench/peers/run.py [--systems updraft,argo,argo_tuned] [--shapes single,diamond4,chain10,fanout50]
                                        [--runs 5] [--hold-s 840] [--deadline-s 2700]

One system at a time, each in a namespace of its own (deleted afterwards), each under the shared
cluster lock (/tmp/updraft-cluster.lock) for at most --hold-s seconds: when a hold's time is up,
the shapes left get fewer runs (the figures say how many). Every shape runs --runs times, one run
after another. Figures (see peer_figures.py): makespan, first task pod seen, overhead per level,
p50/p99/min/max; the control plane's CPU seconds and peak RSS over the series (/proc), and the
apiserver's request count. Results are merged by system into bench/out/peers.json and printed
as one table with each peer's ratio to Updraft.

Systems: `updraft` (the chart's cluster-wide operator, as installed), `argo` (workflow-controller
at its defaults: DEFAULT_REQUEUE_TIME 10 s), `argo_tuned` (DEFAULT_REQUEUE_TIME=1s), and
`argo_noop` (tuned, `true` instead of the Airflow import in each task: orchestration only).
`airflow` (Airflow 3.0.6's KubernetesExecutor at its defaults) and `airflow_tuned`
(peer_airflow.TUNING).

`--smoke` is the set-up check `make test` runs so the harness cannot rot: one one-task run on each
of updraft, argo_tuned and airflow, under the caller's hold of the cluster lock; it exits 1 unless
each succeeds, and writes its figures to bench/out/logs/peers-smoke.json, never to peers.json.

`--kwok` runs Updraft and Argo on KWOK's simulated pods instead (bench/peers/peer_kwok.py: runs
per minute sustained, the drain of --kwok-drain queued runs) into each system's `kwok` entry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peer_airflow  # noqa: E402
import peer_argo  # noqa: E402
import peer_figures as figures  # noqa: E402
import peer_kwok  # noqa: E402
import peer_procstats as procstats  # noqa: E402
from peer_cluster import TOP, PodWatch, kubeconfig, kubectl, observe  # noqa: E402
from peer_shapes import Shape, pick  # noqa: E402
from peer_updraft import OperatorRunning, Updraft  # noqa: E402

OUT = TOP / "bench" / "out" / "peers.json"
LOCK = Path("/tmp/updraft-cluster.lock")
SYSTEMS = ("updraft", "argo", "argo_tuned", "argo_noop", "airflow", "airflow_tuned")
SMOKE_SYSTEMS = "updraft,argo_tuned,airflow"
SMOKE_OUT = TOP / "bench" / "out" / "logs" / "peers-smoke.json"


@contextlib.contextmanager
def cluster_lock(wait_s: float) -> Iterator[None]:
    """The shared cluster lock, waited for (in line with flock's other waiters) at most wait_s seconds."""

    def give_up(signum: int, frame: object) -> None:
        raise TimeoutError

    with LOCK.open("a") as f:
        previous = signal.signal(signal.SIGALRM, give_up)
        signal.alarm(max(int(wait_s), 1))
        try:
            fcntl.flock(f, fcntl.LOCK_EX)
        except TimeoutError:
            raise SystemExit(f"peers: the cluster lock was not free within {wait_s:.0f} s") from None
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def apiserver_requests() -> float | None:
    """The apiserver's total request count (apiserver_request_total summed)."""
    try:
        text = kubectl("get", "--raw", "/metrics")
    except SystemExit:
        return None
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("apiserver_request_total{"))


def control_plane_pids(system: str, controller: Any) -> dict[str, list[int]]:
    groups = {"kube-apiserver": procstats.find_pids("kube-apiserver", "--etcd-servers"),
              "etcd": procstats.find_pids("etcd", "--data-dir")}
    if system.startswith("airflow") or system == "updraft":
        groups["controller"] = controller.pids()
        if system != "updraft":
            groups["postgres"] = peer_airflow.postgres_pids()
    elif getattr(controller, "pid", None):
        groups["controller"] = [controller.pid]
    return groups


async def series(system_obj: Any, namespace: str, shapes: list[Shape], runs: int, until: float,
                 timeout_s: float, hard_until: float) -> dict[str, Any]:
    """Runs of each shape one after another. A run starts only while `until` (this system's share
    of the hold) is ahead, keeping 20 s for each shape still to come; a started run may go on to
    `hard_until` (the hold's end) or its own timeout_s, whichever is first."""
    from kubernetes_asyncio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig(), client_configuration=cfg)
    out: dict[str, Any] = {}
    async with client.ApiClient(cfg) as api:
        core = client.CoreV1Api(api)
        system_obj.custom = client.CustomObjectsApi(api)
        watch = PodWatch(core, namespace, system_obj.run_label)
        watch.start()
        cut: dict[str, list[float]] = {}
        try:
            for n, shape in enumerate(shapes):
                await system_obj.prepare(shape)
                per_run: list[dict[str, float]] = []
                attempted = 0
                for i in range(runs):
                    # leave the shapes after this one at least one run each
                    if i and time.time() + 20 * (len(shapes) - n) > until:
                        print(f"  {shape.name}: time's up after {attempted} run(s)", flush=True)
                        break
                    run = f"{shape.name}-{i}-{int(time.time()) % 100000}"
                    allowed = min(timeout_s, max(hard_until - time.time(), 10))
                    obs = await observe(system_obj, watch, shape, run, allowed)
                    if obs.state == "timeout":
                        cut.setdefault(shape.name, []).append(round(allowed, 1))
                    attempted += 1
                    figs = figures.run_figures(obs, shape.depth)
                    if figs:
                        per_run.append(figs)
                    print(f"  {system_obj.name} {shape.name} #{i}: {obs.state} makespan "
                          f"{figs.get('makespan_s', float('nan')):.1f} s, first start "
                          f"{figs.get('first_start_s', float('nan')):.2f} s, {len(obs.pods_created)} pods, "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
                    await system_obj.forget(run)
                out[shape.name] = figures.summarize(per_run, attempted)
                out[shape.name]["per_run"] = [{k: round(v, 3) for k, v in r.items()} for r in per_run]
                if shape.name in cut:
                    out[shape.name]["timed_out_after_s"] = cut[shape.name]
        finally:
            await watch.stop()
    return out


def run_system(system: str, shapes: list[Shape], args: argparse.Namespace) -> dict[str, Any]:
    namespace = f"peers-{system.replace('_', '-')}"
    until = time.time() + args.hold_s
    controller: Any = contextlib.nullcontext()
    if system == "updraft":
        system_obj: Any = Updraft(None, namespace)
        controller = OperatorRunning()
    elif system.startswith("airflow"):
        env = peer_airflow.environment(namespace, tuned=system == "airflow_tuned")
        system_obj = peer_airflow.Airflow(None, namespace, system, env)
        controller = peer_airflow.Processes(env, TOP / "bench" / "out" / "logs", shapes)
    else:
        bin_dir = peer_argo.build()
        requeue = None if system == "argo" else "1s"
        work = "noop" if system == "argo_noop" else "airflow"
        system_obj = peer_argo.Argo(None, namespace, system, work)
        controller = peer_argo.Controller(bin_dir, TOP / "bench" / "out" / "logs" / f"{system}-controller.log", requeue)
    print(f"{system}: namespace {namespace}, shapes {', '.join(s.name for s in shapes)}, {args.runs} run(s) each",
          flush=True)
    kubectl("delete", "ns", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s", check=False)
    if not system.startswith("argo"):
        kubectl("create", "ns", namespace)
    else:
        peer_argo.load_executor_image()
        peer_argo.install(bin_dir, namespace)
    requests_before = apiserver_requests()
    load = [os.getloadavg()[0]]
    try:
        with controller as ctl:
            with procstats.Sampler(control_plane_pids(system, ctl), period=1.0) as sampler:
                result = asyncio.run(series(system_obj, namespace, shapes, args.runs, until, args.timeout_s,
                                            args.hold_end))
            result["control_plane"] = sampler.summary()
    finally:
        getattr(system_obj, "close", lambda: None)()
        kubectl("delete", "ns", namespace, "--ignore-not-found", "--wait=false", check=False)
    load.append(os.getloadavg()[0])
    requests_after = apiserver_requests()
    if requests_before is not None and requests_after is not None:
        result["apiserver_requests"] = int(requests_after - requests_before)
    result["load_avg_1m"] = [round(x, 1) for x in load]
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return result


def merge(results: dict[str, Any], out: Path) -> dict[str, Any]:
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError):
        doc = {}
    for system, entry in results.items():
        # a system's KWOK figures (peer_kwok) come from another series: a real-pod series keeps them
        kwok = (doc.get(system) or {}).get("kwok")
        doc[system] = {**({"kwok": kwok} if kwok else {}), **entry}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def table(doc: dict[str, Any]) -> str:
    systems = [s for s in SYSTEMS if s in doc]
    shapes = sorted({k for s in systems for k, v in doc[s].items() if isinstance(v, dict) and "runs" in v})
    lines = []
    for figure in ("makespan", "first_start", "overhead_per_level"):
        lines.append(f"\n{figure} p50 (min-max) [n], seconds; ratio = peer / updraft")
        lines.append(f"{'shape':<10}" + "".join(f"{s:>28}" for s in systems))
        for shape in shapes:
            row = f"{shape:<10}"
            base = (doc.get("updraft", {}).get(shape) or {}).get(f"{figure}_p50_s")
            for s in systems:
                f = doc[s].get(shape) or {}
                p50 = f.get(f"{figure}_p50_s")
                if p50 is None:
                    row += f"{'-':>28}"
                    continue
                r = figures.ratio(base, p50) if s != "updraft" else None
                cell = f"{p50:.2f} ({f[f'{figure}_min_s']:.1f}-{f[f'{figure}_max_s']:.1f}) [{f['succeeded']}]"
                cell += f" x{r:.2f}" if r is not None else ""
                row += f"{cell:>28}"
            lines.append(row)
    lines.append("\ncontrol plane over each series: CPU s / peak RSS MB")
    for s in systems:
        cp = doc[s].get("control_plane", {})
        parts = [f"{g} {v['cpu_s']} s / {v['rss_peak_mb']} MB" for g, v in cp.items()]
        lines.append(f"  {s:<11} " + "; ".join(parts) + f"; apiserver requests {doc[s].get('apiserver_requests')}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default="updraft,argo_tuned,argo")
    ap.add_argument("--shapes", default="single,diamond4,chain10,fanout50")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hold-s", type=float, default=840, help="the longest hold of the cluster lock, per system")
    ap.add_argument("--lock-wait-s", type=float, default=1800, help="how long to wait for the cluster lock")
    ap.add_argument("--deadline-s", type=float, default=2700, help="the whole benchmark's time limit")
    ap.add_argument("--timeout-s", type=float, default=300, help="the longest one run may take")
    ap.add_argument("--one-hold", action="store_true",
                    help="one hold of the lock (at most --hold-s) for all the systems, e.g. a smoke")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--smoke", action="store_true",
                    help="the set-up check of make test: one single-task run per system, under the caller's lock")
    peer_kwok.add_arguments(ap)
    args = ap.parse_args()
    if args.kwok:  # its own phases, each in a hold of the lock of its own
        peer_kwok.main(args, lambda: cluster_lock(args.lock_wait_s), Path(args.out))
        return
    if args.smoke:
        args.systems, args.shapes, args.runs, args.out = SMOKE_SYSTEMS, "single", 1, str(SMOKE_OUT)
        args.hold_s, args.timeout_s = min(args.hold_s, 600), min(args.timeout_s, 120)
    shapes = pick(args.shapes)
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    deadline = time.time() + args.deadline_s
    results: dict[str, Any] = {}
    # what needs no cluster, first: Argo's build (slow when cold), Airflow's schema and DAG files
    if any(s.startswith("argo") for s in systems):
        peer_argo.build()
    if any(s.startswith("airflow") for s in systems):
        peer_airflow.prepare(shapes)
    args.one_hold = args.one_hold or args.smoke
    one_hold = cluster_lock(min(args.lock_wait_s, max(deadline - time.time(), 1))) \
        if args.one_hold and not args.smoke else contextlib.nullcontext()
    hold_s = args.hold_s
    hold_until = time.time() + hold_s
    with one_hold:
        for n, system in enumerate(systems):
            if time.time() > deadline:
                print(f"{system}: skipped, past --deadline-s", flush=True)
                continue
            own_hold = contextlib.nullcontext() if args.one_hold else \
                cluster_lock(min(args.lock_wait_s, max(deadline - time.time(), 1)))
            with own_hold:
                if not args.one_hold:
                    hold_until = time.time() + hold_s
                # one hold for several systems: each gets an equal share of what is left
                share = len(systems) - n if args.one_hold else 1
                args.hold_s = max((min(hold_until, deadline) - time.time()) / share, 30)
                args.hold_end = min(hold_until, deadline)
                results[system] = run_system(system, shapes, args)
            merge(results, Path(args.out))
    doc = merge(results, Path(args.out))
    print(table(doc))
    print(f"\nwritten to {args.out}")
    if args.smoke:
        failed = [s for s in systems if not (results.get(s, {}).get("single") or {}).get("succeeded")]
        if failed:
            raise SystemExit(f"peers smoke: no successful run on {', '.join(failed)} (logs under bench/out/logs)")
        print("peers smoke: each system ran its one-task workflow to success")


if __name__ == "__main__":
    main()
