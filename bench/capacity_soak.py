"""The capacity benchmark's soak phase: many single-task runs through one operator with retention
on (the chart's `runs.historyLimit`), to see whether anything grows that should not.

- `soak_rss_growth_mb`: the operator's RSS at the end (every run finished, retention caught up)
  minus its RSS early in the soak (the median of the samples taken while the second tenth of
  the runs was created: by then retention holds as many finished runs as it ever will). Flat
  (a few MB) means no leak.
- object counts and the database size at the end, from the API server's own metrics
  (`apiserver_storage_objects`, `apiserver_storage_size_bytes`): bounded by retention, not by
  the number of runs that went through.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

STORED = ("workflowruns.updraft.dev", "pods", "secrets", "configmaps", "events")
_SAMPLE = re.compile(r'^(apiserver_storage_objects|apiserver_storage_size_bytes)\{([^}]*)\}\s+([0-9.eE+-]+)$')


def storage_figures(metrics_text: str) -> dict[str, float]:
    """Objects stored per resource (those in STORED) and the database size in bytes (the largest
    one reported), from the API server's /metrics text."""
    out: dict[str, float] = {}
    for line in metrics_text.splitlines():
        m = _SAMPLE.match(line.strip())
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2), float(m.group(3))
        if name == "apiserver_storage_size_bytes":
            out["db_bytes"] = max(out.get("db_bytes", 0.0), value)
            continue
        resource = re.search(r'resource="([^"]+)"', labels)
        if resource and resource.group(1) in STORED:
            out[resource.group(1)] = value
    return out


def rss_growth(samples: Iterable[Mapping[str, Any]], early: tuple[float, float], end_at: float) -> dict[str, Any]:
    """RSS early (median of samples inside `early`, a (start, end) time window) and at the end
    (median of the samples at or after `end_at`), and the growth between them."""
    def median(xs: list[float]) -> float | None:
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else None

    rows = [s for s in samples if s.get("rss_mb") is not None]
    before = median([s["rss_mb"] for s in rows if early[0] <= s["t"] < early[1]])
    after = median([s["rss_mb"] for s in rows if s["t"] >= end_at])
    growth = round(after - before, 1) if before is not None and after is not None else None
    return {"rss_mb_early": before, "rss_mb_end": after, "rss_growth_mb": growth}


async def soak_phase(bench: Any, workflows: list[str], runs: int, rate: float, settle_s: float,
                     metrics_text: Any) -> dict[str, Any]:
    """Create `runs` runs at `rate` per minute across `workflows`, wait for every one to finish,
    then `settle_s` more (retention catches up, on the workflows' next schedule passes), and
    read the figures. `metrics_text()` returns the API server's /metrics."""
    import asyncio
    import time

    names = [f"k-{i:06d}" for i in range(runs)]
    t0 = time.time()
    tasks = []
    early = [0.0, 0.0]
    for i, n in enumerate(names):
        if i == runs // 10:
            early[0] = time.time()
        if i == runs // 5:
            early[1] = time.time()
        delay = t0 + i * 60 / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(bench.create_run(n, workflows[i % len(workflows)], "soak")))
    await asyncio.gather(*tasks)
    finished = await bench.wait_done(names, max(600.0, runs * 60 / rate))
    done_at = time.time()
    await asyncio.sleep(settle_s)
    end_at = time.time() - min(settle_s / 2, 30)
    figures = rss_growth([s for s in bench.samples if s["phase"] == "soak"], (early[0], early[1]), end_at)
    return {"runs": runs, "offered_per_minute": rate, "finished": sum(1 for n in names if n in bench.ledger.done),
            "all_finished": finished, "wall_s": round(done_at - t0, 1), **figures,
            "stored_after": storage_figures(str(await asyncio.to_thread(metrics_text)))}
