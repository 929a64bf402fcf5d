"""The capacity benchmark's schedule phase: N workflows whose cron fires every minute, all on the
same minute; the schedule delay of a fire is the time from its fire time (the run's
`updraft.dev/scheduled-time` annotation) to the watch event that shows the run created, on this
host's clock (the API server's too: the cluster is local).

Its figures are `schedule_delay_p50_s_<N>` and `schedule_delay_p99_s_<N>` (issue 16: p99 at most
1 s at 100 workflows and 2 s at 1,000). The workflows are deleted at the end of the phase.

Where the delay goes: before the deletion the operator's own `updraft_schedule_delay_seconds` is
read (from a fire time to the start of the pass that creates its run: the wait for a worker), so
the rest is the create call and the watch's delivery.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping

from capacity_cluster import EMPTY, GROUP, RUN_NS, VERSION

SCHEDULED_TIME = "updraft.dev/scheduled-time"  # written by the operator on each scheduled run
PASS_DELAY = "updraft_schedule_delay_seconds"  # the operator's: fire time to its pass's start


def scheduled_workflow_body(name: str) -> dict[str, Any]:
    definition = (f"{name}:\n  schedule: '* * * * *'\n  max_active_runs: 5\n  tasks:\n"
                  f"    t:\n      operator: {EMPTY}\n")
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/capbench", "definition": definition}}


def fire_time(run: Mapping[str, Any]) -> float | None:
    """The fire time of a scheduled run (epoch seconds), from its annotation; None for others."""
    value = ((run.get("metadata") or {}).get("annotations") or {}).get(SCHEDULED_TIME)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def delays(seen: Mapping[str, float], fires: Mapping[str, float], first_fire: float) -> list[float]:
    """Seconds from each run's fire time to when it was seen, for fire times at or after
    `first_fire` (the first minute every workflow was ready for)."""
    return [max(0.0, seen[n] - fires[n]) for n in seen if n in fires and fires[n] >= first_fire]


def histogram_quantiles(metrics_text: str, metric: str, qs: tuple[int, ...] = (50, 99)) -> dict[str, Any]:
    """The count of a Prometheus histogram over all its series, and for each quantile q the upper
    bound of the bucket it falls in (`p<q>_le_s`; None past the last finite bucket)."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != metric:
            continue
        for sample in family.samples:
            if sample.name == f"{metric}_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    total = buckets.get(math.inf, 0.0)
    out: dict[str, Any] = {"count": int(total)}
    for q in qs:
        rank = total * q / 100
        bound = next((le for le, cum in sorted(buckets.items()) if cum >= rank), None) if total else None
        out[f"p{q}_le_s"] = None if bound is None or math.isinf(bound) else bound
    return out


async def schedule_phase(custom: Any, client: Any, n: int, minutes: int = 2, parallel: int = 32,
                         operator_metrics: Callable[[], Awaitable[str]] | None = None) -> dict[str, Any]:
    """Create n every-minute workflows, wait until each has a version, then watch `minutes` fire
    times; the workflows are deleted afterwards. `delays_s` holds one delay per fire seen;
    `operator_pass_delay` the operator's own histogram (`operator_metrics` reads its /metrics)."""
    from kubernetes_asyncio import watch

    names = [f"sch{n}-{i:04d}" for i in range(n)]
    sem = asyncio.Semaphore(parallel)

    async def create(name: str) -> None:
        async with sem:
            try:
                await custom.create_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows",
                                                             scheduled_workflow_body(name))
            except client.ApiException as e:
                if e.status != 409:
                    raise

    t0 = time.time()
    await asyncio.gather(*(create(x) for x in names))
    deadline = time.monotonic() + 600
    while True:
        wfs = (await custom.list_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows"))["items"]
        ready = sum(1 for w in wfs if w["metadata"]["name"] in set(names) and (w.get("status") or {}).get("latestVersion"))
        if ready >= n:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"capacity: only {ready}/{n} scheduled workflows got a version within 600 s")
        await asyncio.sleep(2)
    ready_s = time.time() - t0
    first_fire = (math.floor(time.time() / 60) + 1) * 60  # the next minute: every workflow can fire then
    end = first_fire + (minutes - 1) * 60 + 50  # the last fire's runs are in well before this
    seen: dict[str, float] = {}
    fires: dict[str, float] = {}
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflowruns")
    rv = listed["metadata"]["resourceVersion"]
    while time.time() < end:
        try:
            async with watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, RUN_NS,
                                            "workflowruns", resource_version=rv,
                                            timeout_seconds=max(1, int(end - time.time()))) as stream:
                async for event in stream:
                    obj = event["object"]
                    rv = obj["metadata"].get("resourceVersion", rv)
                    name = obj["metadata"]["name"]
                    if event["type"] == "ADDED" and name not in seen:
                        at = fire_time(obj)
                        if at is not None:
                            seen[name], fires[name] = time.time(), at
                    if time.time() >= end:
                        break
        except client.ApiException as e:
            if e.status != 410:
                raise
            listed = await custom.list_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflowruns")
            rv = listed["metadata"]["resourceVersion"]
    lag = delays(seen, fires, first_fire)
    expected = n * minutes
    passes = histogram_quantiles(await operator_metrics(), PASS_DELAY) if operator_metrics else None
    await asyncio.gather(*(_delete(custom, client, x, sem) for x in names))
    return {"workflows": n, "minutes": minutes, "ready_s": round(ready_s, 1), "runs_expected": expected,
            "delays_s": lag, "operator_pass_delay": passes}


async def _delete(custom: Any, client: Any, name: str, sem: asyncio.Semaphore) -> None:
    async with sem:
        try:
            await custom.delete_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows", name)
        except client.ApiException as e:
            if e.status != 404:
                raise
