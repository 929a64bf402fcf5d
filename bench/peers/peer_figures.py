"""The benchmark's figures from what it observed (pure: no I/O, no clock).

One run is observed from outside the system, on one clock: when the trigger call returned
(`triggered`), when the watch first saw each task pod (`pods_created`), and when the run was
first seen final (`finished`). From it:
- makespan: triggered -> finished;
- first start: triggered -> the first task pod seen;
- overhead: makespan minus the critical path's own task time (`depth x task_s`, where task_s is
  the work each task does itself; 0 for the no-op work), and the same per level of the shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass
class RunObservation:
    system: str
    shape: str
    triggered: float
    finished: float | None = None
    state: str = ""
    pods_created: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.state == "success"


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(len(ordered) * q / 100))
    return ordered[rank - 1]


def run_figures(obs: RunObservation, depth: int, task_s: float = 0.0) -> dict[str, float]:
    """The figures of one successful run (empty for a run that did not succeed)."""
    if not obs.ok or obs.finished is None:
        return {}
    makespan = obs.finished - obs.triggered
    overhead = makespan - depth * task_s
    out = {"makespan_s": makespan, "overhead_s": overhead, "overhead_per_level_s": overhead / max(depth, 1)}
    if obs.pods_created:
        out["first_start_s"] = min(obs.pods_created) - obs.triggered
    return out


def summarize(runs: list[dict[str, float]], attempted: int) -> dict[str, Any]:
    """p50, p99 (nearest rank: the slowest of few runs), min and max of each figure over the runs."""
    out: dict[str, Any] = {"runs": attempted, "succeeded": len(runs)}
    keys = sorted({k for r in runs for k in r})
    for key in keys:
        values = [r[key] for r in runs if key in r]
        base = key[:-2] if key.endswith("_s") else key
        out[f"{base}_p50_s"] = _round(percentile(values, 50))
        out[f"{base}_p99_s"] = _round(percentile(values, 99))
        out[f"{base}_min_s"] = _round(min(values))
        out[f"{base}_max_s"] = _round(max(values))
    return out


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """How many times longer the peer takes than Updraft (> 1: Updraft is faster)."""
    if ours is None or theirs is None or ours <= 0:
        return None
    return round(theirs / ours, 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def cpu_seconds(samples: list[tuple[float, float]]) -> float | None:
    """CPU seconds spent between the first and last (time, cumulative CPU seconds) samples."""
    if len(samples) < 2:
        return None
    return round(samples[-1][1] - samples[0][1], 3)
