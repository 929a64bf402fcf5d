"""The operator's memory at N live runs and task pods, CPU-only: figures to watch, never asserted.

    .venv/bin/python bench/operator_memory.py                 # N = 0, 1000, 2000, then the leak check
    .venv/bin/python bench/operator_memory.py --trace         # and the top allocations (tracemalloc)
    .venv/bin/python bench/operator_memory.py --live 1000 --cycles 5 --cycle-runs 500

No cluster. The operator's real in-process paths run on realistic objects: kopf's own watcher,
per-object workers and event processing (`kopf._core.reactor`, with the operator's startup settings
and every handler of `updraft.handlers.app`: the run, workflow and pod indexes, `run_event`,
`pod_event`, `workflow_event`), the run loop with 16 workers passing every run through the real
`reconcile_run` (admission over the run index, the engine, `build_pod`, the status writes), and the
metrics. Only the API server is simulated (bench/operator_memory_world.py: bodies with
managedFields, a kubelet's pod statuses), and its store is subtracted from the process's figures.

The scenario: 100 workflows (one EmptyOperator task, max_active_runs 20; the cluster quota is
raised so that every run is admitted); N runs created (round robin), each RUNNING with one Running
task pod; measured at N = 0, 1000, 2000. Then every pod succeeds, every run ends, its pod is
deleted (cleanup delay 0), it is finalized and deleted (retention): measured again. The leak
check: --cycles times, --cycle-runs runs created, run, finished and deleted; measured after each.

At each N, "busy" is measured 2 s after every pod's status was written once more and the operator
went quiet (as in a cluster where every pod changes every few seconds: kopf's per-object workers
that have not idled out yet hold their object's last event); the other points once every worker
went idle (settings.queueing.idle_timeout).

Each point: the process's RSS after a full collection and malloc_trim (MB), the simulated server's
stored text (MB, subtracted: `operator_mb`), and with --trace the traced Python heap. The figures
go to bench/out/bench.json (`operator_memory_mb_<N>_runs`, `operator_memory_leak_mb_per_1000_runs`,
details under `operator_memory`; other keys kept).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import functools
import gc
import json
import logging
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "operator"))  # this checkout's operator, not the one the venv installed
OUT = HERE / "out" / "bench.json"
NS = "bench"
WORKFLOWS = 100
BUSY_AFTER_S = 2.0  # the busy point: this long after the last event (an object's events are seconds apart)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap() -> dict[str, float]:
    """The live heap without tracemalloc (MB): Python's small objects in use (pymalloc's allocated
    blocks), its arenas now and at their high-water mark (what the RSS keeps: an arena is given
    back only when every block in it is free), and what glibc's malloc has in use (large objects)."""
    stats: dict[str, float] = {}
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        for line in f.read().decode(errors="replace").splitlines():
            name, _, value = line.partition("=")
            number = value.strip().replace(",", "")
            if number.isdigit():
                stats[name.strip()] = int(number)
    out = {"pymalloc_in_use_mb": stats.get("# bytes in allocated blocks", 0) / 2**20,
           "arenas_mb": stats.get("# arenas allocated current", 0) * 2**20 / 2**20,
           "arenas_peak_mb": stats.get("# arenas highwater mark", 0) * 2**20 / 2**20}
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
        out["malloc_in_use_mb"] = (info.uordblks + info.hblkhd) / 2**20
    except (OSError, AttributeError):
        out["malloc_in_use_mb"] = 0.0
    return out


def collect() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


IMPORT_RSS_BEFORE = rss_mb()
import kopf  # noqa: E402
from results import merge_results  # noqa: E402
from kopf._cogs.clients import watching  # noqa: E402
from kopf._cogs.configs.configuration import OperatorSettings  # noqa: E402
from kopf._cogs.structs import bodies, patches, references  # noqa: E402
from kopf._core.actions import lifecycles  # noqa: E402
from kopf._core.engines import indexing, posting  # noqa: E402
from kopf._core.intents import registries  # noqa: E402
from kopf._core.reactor import inventory, processing, queueing  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

from operator_memory_world import Server, pod_status  # noqa: E402
from updraft import metrics  # noqa: E402
from updraft.config import Settings  # noqa: E402
from updraft.handlers import app  # noqa: E402
from updraft.handlers.context import Context  # noqa: E402
from updraft.handlers.runloop import RunLoop  # noqa: E402
from updraft.handlers.scheduleloop import ScheduleLoop  # noqa: E402
from updraft.handlers.workflows import reconcile_workflow  # noqa: E402
from updraft.model import names  # noqa: E402
from updraft.model.names import GROUP, VERSION  # noqa: E402

collect()
IMPORT_RSS = rss_mb()


def resource(group: str, version: str, plural: str, kind: str) -> references.Resource:
    return references.Resource(group=group, version=version, plural=plural, kind=kind, namespaced=True,
                               verbs=frozenset({"list", "watch", "patch"}))


RESOURCES = {"workflows": resource(GROUP, VERSION, "workflows", "Workflow"),
             "workflowruns": resource(GROUP, VERSION, "workflowruns", "WorkflowRun"),
             "pods": resource("", "v1", "pods", "Pod")}


class Operator:
    """The operator's in-process part, wired as `app.run_operator` and kopf's `spawn_tasks` wire it."""

    def __init__(self, server: Server, concurrent: int) -> None:
        self.server = server
        settings = Settings(namespace=NS, max_concurrent_runs=concurrent, pod_cleanup_delay_s=0)
        self.ctx = Context(settings=settings, kube=server, s3_client_factory=lambda: None)  # type: ignore[arg-type]
        server.on_write = self.ctx.watched.written
        self.runs = RunLoop(self.ctx, app.post_event)
        self.schedules = ScheduleLoop(self.ctx)
        self.registry = registries.get_default_registry()
        self.settings = OperatorSettings()
        self.indexers = indexing.OperatorIndexers()
        self.indexers.ensure(self.registry._indexing.get_all_handlers())
        self.memories = inventory.ResourceMemories()
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        await app.configure(settings=self.settings)
        posting.settings_var.set(self.settings)  # kopf.event reads it (kopf's spawn_tasks sets it)
        metrics.register_operator_series()
        memo = kopf.Memo(ctx=self.ctx, runs=self.runs, schedules=self.schedules)
        server = self.server

        def stream(*, resource: references.Resource, **_: Any) -> Any:
            return server.watch(resource.plural)

        queueing.watching.infinite_watch = stream  # type: ignore[assignment]  # the API server is ours
        for res in RESOURCES.values():
            processor = functools.partial(processing.process_resource_event, lifecycle=lifecycles.get_default_lifecycle(),
                                          registry=self.registry, settings=self.settings, indexers=self.indexers,
                                          memories=self.memories, memobase=memo, event_queue=self.events,
                                          resource=res)
            self.tasks.append(asyncio.create_task(queueing.watcher(namespace=NS, settings=self.settings, resource=res,
                                                                   processor=processor)))
        self.tasks.append(asyncio.create_task(self._post_events()))

    async def _post_events(self) -> None:  # kopf's poster sends them to the API; here they are dropped
        while True:
            await self.events.get()

    async def stop(self) -> None:
        await self.runs.close()
        await self.schedules.close()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def counts(self) -> dict[str, int]:
        runs_index = self.indexers.indices["run_index"]
        pods_index = self.indexers.indices["pod_index"]
        return {"kopf_memories": len(list(self.memories.iter_all_memories())),
                "run_index": sum(len(v) for v in runs_index.values()),
                "pod_index": sum(len(v) for v in pods_index.values()),
                "followed": len(self.ctx.watched._live), "written": len(self.ctx.watched._written),
                "timers": self.runs.queue.timers, "run_states": len(metrics.RUN_STATES.current),
                "series": sum(len(m.samples) for m in REGISTRY.collect()),
                "tasks": len(asyncio.all_tasks())}


def definition(name: str) -> str:
    return f"{name}:\n  schedule: None\n  max_active_runs: 20\n  tasks:\n    t0: {{operator: EmptyOperator}}\n"


async def add_workflows(op: Operator) -> list[tuple[str, str]]:
    """100 valid, compiled workflows, each seen by kopf as it is after the operator handled it (its
    status, the finalizer, the diff-base annotation), so no create handler runs again here."""
    server, made = op.server, []
    storage = op.settings.persistence.diffbase_storage
    for i in range(WORKFLOWS):
        name = f"wf-{i:03d}"
        await server.create({"apiVersion": names.API_VERSION, "kind": "Workflow", "metadata": {"name": name},
                             "spec": {"roleArn": "arn:aws:iam::123456789012:role/bench", "definition": definition(name)}}, NS)
        body = await server.get("Workflow", name, NS)
        await server.patch_status("Workflow", name, NS, await reconcile_workflow(op.ctx, body))
        body = await server.get("Workflow", name, NS)
        body["metadata"]["finalizers"] = [op.settings.persistence.finalizer]
        patch = patches.Patch()
        storage.store(body=bodies.Body(body), patch=patch, essence=storage.build(body=bodies.Body(body)))
        body["metadata"].setdefault("annotations", {}).update(patch["metadata"]["annotations"])
        server.watches["workflows"].put_nowait(("ADDED", json.dumps(body)))
        made.append((name, body["metadata"]["uid"]))
    return made


async def settle(op: Operator, timeout_s: float = 120.0) -> None:
    """Until the watches are drained, the run loop has nothing queued or in hand, and no write
    happened for a moment."""
    deadline, last, quiet_since = time.monotonic() + timeout_s, -1, time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        busy = not op.server.idle() or op.runs.queue.depth or op.runs.queue._active
        if busy or op.server.writes != last:
            last, quiet_since = op.server.writes, time.monotonic()
        elif time.monotonic() - quiet_since > 0.4:
            return


async def kubelet(op: Operator, phase: str) -> None:
    """Every task pod gets the kubelet's status: Running, or Succeeded with the runner's report."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    image = op.ctx.settings.image_for(None)  # type: ignore[arg-type]
    for ns, name in op.server.pods():
        op.server.set_pod_status(ns, name, pod_status(now, now, phase, str(image)))
        await asyncio.sleep(0)


async def create_runs(op: Operator, workflows: list[tuple[str, str]], first: int, count: int) -> None:
    for i in range(first, first + count):
        wf, uid = workflows[i % len(workflows)]
        await op.server.create({"apiVersion": names.API_VERSION, "kind": "WorkflowRun", "metadata": {
            "name": f"{wf}-m-{i:06d}", "labels": names.workflow_labels(wf),
            "ownerReferences": [names.owner_ref("Workflow", wf, uid)]},
            "spec": {"workflowName": wf, "runType": "ON_DEMAND"}}, NS)
        if i % 50 == 0:
            await asyncio.sleep(0)


async def live(op: Operator, workflows: list[tuple[str, str]], first: int, count: int) -> None:
    """`count` more runs, each RUNNING with its one task pod Running."""
    await create_runs(op, workflows, first, count)
    await settle(op)
    await kubelet(op, "Running")
    await settle(op)


async def finish_all(op: Operator) -> None:
    """Every pod succeeds; the runs end, their pods go, they are finalized; then retention deletes them."""
    await kubelet(op, "Succeeded")
    await settle(op)
    for (kind, ns, name) in list(op.server.texts):
        if kind == "WorkflowRun":
            await op.server.delete(kind, name, ns)
    await settle(op)


class Points:
    """The figures at each point, taken once kopf's per-object workers went idle and exited (a
    worker keeps its object's last event for settings.queueing.idle_timeout after it)."""

    def __init__(self, op: Operator, trace: bool) -> None:
        self.op, self.trace, self.rows, self.snaps = op, trace, [], {}
        self.peak_bytes, self.peak_snap = 0, None
        self.started = time.monotonic()

    async def sample_peak(self) -> None:
        """With --trace: a snapshot whenever the traced heap reaches a new high (by 10 %)."""
        while True:
            await asyncio.sleep(0.25)
            current = tracemalloc.get_traced_memory()[0]
            if current > self.peak_bytes * 1.1:
                self.peak_bytes, self.peak_snap = current, tracemalloc.take_snapshot()

    async def take(self, label: str, live_runs: int, idle: bool = True) -> dict[str, Any]:
        if idle:
            await asyncio.sleep(self.op.settings.queueing.idle_timeout + 0.5)
        collect()
        server_mb = self.op.server.stored_bytes() / 2**20
        row: dict[str, Any] = {"point": label, "t_s": round(time.monotonic() - self.started), "live_runs": live_runs,
                               "rss_mb": round(rss_mb(), 1),
                               "server_mb": round(server_mb, 1)}
        row["operator_mb"] = round(row["rss_mb"] - server_mb, 1)
        h = heap()
        # the live heap: Python's objects in use and malloc's, less the server's stored text (in malloc's share)
        row["live_heap_mb"] = round(h["pymalloc_in_use_mb"] + h["malloc_in_use_mb"] - server_mb, 1)
        row["arenas_peak_mb"] = round(h["arenas_peak_mb"])
        if self.trace:
            current, peak = tracemalloc.get_traced_memory()
            row["heap_mb"] = round(current / 2**20 - server_mb, 1)
            row["heap_peak_mb"] = round(peak / 2**20, 1)  # since the last point, the server's text included
            tracemalloc.reset_peak()
            self.snaps[label] = tracemalloc.take_snapshot()
        row.update(self.op.counts())
        self.rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        return row


async def scenario(args: argparse.Namespace) -> dict[str, Any]:
    server = Server()
    op = Operator(server, concurrent=max(args.live) + args.cycle_runs + 10)
    await op.start()
    workflows = await add_workflows(op)
    await settle(op)
    points = Points(op, args.trace)
    sampler = asyncio.create_task(points.sample_peak()) if args.trace else None
    await points.take("0 runs", 0)
    made = 0
    for n in sorted(args.live):
        await live(op, workflows, made, n - made)
        made = n
        await points.take(f"{n} live", n)
        await kubelet(op, "Running")  # every pod's status written again: a busy cluster's steady churn
        await settle(op)
        await asyncio.sleep(BUSY_AFTER_S)
        await points.take(f"{n} live, busy", n, idle=False)
    await finish_all(op)
    await points.take(f"after {made} ended+deleted", 0)
    for c in range(args.cycles):
        await live(op, workflows, made, args.cycle_runs)
        made += args.cycle_runs
        await finish_all(op)
        await points.take(f"cycle {c + 1}", 0)
    if sampler is not None:
        sampler.cancel()
        points.snaps["peak"] = points.peak_snap
    await op.stop()
    return {"rows": points.rows, "snaps": points.snaps, "runs_made": made}


def top_allocations(snaps: dict[str, Any], base: str, at: str, limit: int) -> list[str]:
    if base not in snaps or at not in snaps:
        return []
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"))
    diff = snaps[at].filter_traces(ignore).compare_to(snaps[base].filter_traces(ignore), "lineno")
    return [f"{s.size_diff / 2**20:8.2f} MB {s.count_diff:+8d} blocks  {s.traceback[0].filename.split('site-packages/')[-1]}"
            f":{s.traceback[0].lineno}" for s in diff[:limit]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--live", type=int, nargs="+", default=[1000, 2000], help="live runs (and pods) to measure at")
    ap.add_argument("--cycles", type=int, default=2, help="leak check: create, run, finish and delete cycles")
    ap.add_argument("--cycle-runs", type=int, default=200)
    ap.add_argument("--trace", action="store_true", help="tracemalloc: the traced heap and the top allocations")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "ERROR")))
    if args.trace:
        tracemalloc.start(1)
    started = time.monotonic()
    result = asyncio.run(scenario(args))
    wall = time.monotonic() - started
    rows = result["rows"]
    cols = ["point", "t_s", "rss_mb", "server_mb", "operator_mb", "live_heap_mb", "arenas_peak_mb", *(["heap_mb", "heap_peak_mb"] if args.trace else []),
            "kopf_memories", "run_index", "pod_index", "followed", "written", "timers", "run_states", "series", "tasks"]
    print(f"\nimports: {IMPORT_RSS_BEFORE:.1f} MB before kopf and updraft, {IMPORT_RSS:.1f} MB after; wall {wall:.0f} s"
          + (" (tracemalloc on: RSS includes its overhead)" if args.trace else ""))
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")) for c in cols))
    base = rows[0]
    if args.trace:
        biggest = f"{max(args.live)} live"
        print(f"\ntop allocations, {biggest} against 0 runs:")
        print("\n".join(top_allocations(result["snaps"], "0 runs", biggest, args.top)))
        print(f"\ntop allocations, {biggest}, busy against idle (what kopf's live per-object workers hold):")
        print("\n".join(top_allocations(result["snaps"], biggest, f"{biggest}, busy", args.top // 2)))
        print("\ntop allocations at the traced heap's peak against 0 runs (what sets the RSS high-water mark):")
        print("\n".join(top_allocations(result["snaps"], "0 runs", "peak", args.top)))
        print("\ntop allocations, the last cycle against 0 runs (what finished runs leave):")
        print("\n".join(top_allocations(result["snaps"], "0 runs", rows[-1]["point"], args.top // 2)))
    cycles = [r for r in rows if r["point"].startswith("cycle")]
    leak = None
    if len(cycles) >= 2:
        leak = (cycles[-1]["operator_mb"] - cycles[0]["operator_mb"]) * 1000 / (args.cycle_runs * (len(cycles) - 1))
        print(f"\nleak check: {cycles[0]['operator_mb']} MB after cycle 1, {cycles[-1]['operator_mb']} MB after cycle "
              f"{len(cycles)}: {leak:+.2f} MB per 1000 runs finished")
    if args.no_write or args.trace:
        return
    updates: dict[str, Any] = {f"operator_memory_mb_{r['live_runs']}_runs": r["operator_mb"]
                               for r in rows if r["point"].endswith(" live")}
    updates.update({f"operator_memory_mb_{r['live_runs']}_runs_busy": r["operator_mb"]
                    for r in rows if r["point"].endswith(" busy")})
    updates["operator_memory_mb_0_runs"] = base["operator_mb"]
    updates.update({f"operator_live_heap_mb_{r['live_runs']}_runs": r["live_heap_mb"]
                    for r in rows if r["point"].endswith(" live") or r is base})
    updates["operator_memory_leak_mb_per_1000_runs"] = round(leak, 2) if leak is not None else None
    updates["operator_memory"] = {"rows": rows, "import_rss_mb": round(IMPORT_RSS, 1), "wall_s": round(wall, 1),
                                  "args": {k: v for k, v in vars(args).items() if k != "out"},
                                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                  "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                              "kernel": platform.release()}}
    merge_results(args.out, updates)
    print(f"merged into {args.out}")


if __name__ == "__main__":
    main()
