"""How many WorkflowRuns a second this cluster's API server can create, with nobody reacting to
them: the ceiling under every figure of the schedule phase (a fire is a run created, then its
status and the Workflow's written) and of the sustained runs.

    .venv/bin/python bench/apiserver_ceiling.py [--runs 1000] [--concurrency 16,64]

Cluster-wide Updraft operators are scaled to 0 meanwhile (and back after), so no operator sees
the runs; they are made in a namespace of their own, deleted at the end. Each create is the body
the schedule loop writes (labels, the scheduled-time annotation, the spec), `--concurrency`
calls in flight. Prints and merges into bench/out/bench.json `apiserver_run_creates_per_s_c<C>`
and `apiserver_run_create_p99_ms_c<C>`. Hold the cluster lock around it.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from capacity_cluster import GROUP, TOP, VERSION, kubeconfig, kubectl, pause_cluster_wide_operators, percentile, \
    restore_operators  # noqa: E402
from results import merge_results  # noqa: E402

NAMESPACE = "updraft-ceiling"
OUT = TOP / "bench" / "out" / "bench.json"


def run_body(i: int) -> dict[str, Any]:
    """A scheduled run as the schedule loop writes it (no owner: nothing garbage-collects it early)."""
    fire = f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowRun",
            "metadata": {"name": f"ceiling-{i:05d}", "labels": {"updraft.dev/workflow": f"ceiling-{i % 100:03d}"},
                         "annotations": {"updraft.dev/scheduled-time": fire}},
            "spec": {"workflowName": f"ceiling-{i % 100:03d}", "runType": "SCHEDULED", "logicalDate": fire,
                     "workflowVersion": "0" * 32}}  # the CRD asks for a version id (32 of [a-z0-9])


def figures(durations_s: list[float], wall_s: float, concurrency: int) -> dict[str, float | None]:
    p99 = percentile([d * 1000 for d in durations_s], 99)
    return {f"apiserver_run_creates_per_s_c{concurrency}": round(len(durations_s) / wall_s, 1) if wall_s else None,
            f"apiserver_run_create_p99_ms_c{concurrency}": round(p99, 1) if p99 is not None else None}


async def create_all(n: int, concurrency: int, first: int) -> tuple[list[float], float]:
    from kubernetes_asyncio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig(), client_configuration=cfg)
    cfg.connection_pool_maxsize = concurrency * 2
    durations: list[float] = []
    async with client.ApiClient(cfg) as api:
        custom = client.CustomObjectsApi(api)
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                t0 = time.perf_counter()
                await custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "workflowruns", run_body(i))
                durations.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(first + i) for i in range(n)))
        return durations, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000, help="runs created at each concurrency")
    ap.add_argument("--concurrency", default="16,64", help="comma-separated calls in flight")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c]
    saved = pause_cluster_wide_operators()
    kubectl("create", "namespace", NAMESPACE, check=False)
    results: dict[str, Any] = {}
    try:
        for k, concurrency in enumerate(levels):
            durations, wall = asyncio.run(create_all(args.runs, concurrency, k * args.runs))
            got = figures(durations, wall, concurrency)
            results.update(got)
            print(f"{args.runs} creates at {concurrency} in flight: "
                  f"{got[f'apiserver_run_creates_per_s_c{concurrency}']}/s, "
                  f"p99 {got[f'apiserver_run_create_p99_ms_c{concurrency}']} ms", flush=True)
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=300s", check=False)
        restore_operators(saved)
    merge_results(OUT, results)
    print(f"merged into {OUT}")


if __name__ == "__main__":
    main()
