"""The capacity benchmark's schedule phase: N workflows whose cron fires every minute, all on the
same minute; the schedule delay of a fire is the time from its fire time (the run's
`updraft.dev/scheduled-time` annotation) to the watch event that shows the run created, on this
host's clock (the API server's too: the cluster is local).

Its figures are `schedule_delay_p50_s_<N>` and `schedule_delay_p99_s_<N>` (issue 16: p99 at most
1 s at 100 workflows and 2 s at 1,000). The workflows are deleted at the end of the phase.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any, Mapping

from capacity_cluster import EMPTY, GROUP, RUN_NS, VERSION

SCHEDULED_TIME = "updraft.dev/scheduled-time"  # written by the operator on each scheduled run


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


async def schedule_phase(custom: Any, client: Any, n: int, minutes: int = 2, parallel: int = 32) -> dict[str, Any]:
    """Create n every-minute workflows, wait until each has a version, then watch `minutes` fire
    times; the workflows are deleted afterwards. `delays_s` holds one delay per fire seen."""
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
    await asyncio.gather(*(_delete(custom, client, x, sem) for x in names))
    return {"workflows": n, "minutes": minutes, "ready_s": round(ready_s, 1), "runs_expected": expected,
            "delays_s": lag}


async def _delete(custom: Any, client: Any, name: str, sem: asyncio.Semaphore) -> None:
    async with sem:
        try:
            await custom.delete_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflows", name)
        except client.ApiException as e:
            if e.status != 404:
                raise
