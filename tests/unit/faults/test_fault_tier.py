"""The fault tier (model level, CPU only): the REAL run handler and engine against an API server
that enforces the chart's RBAC, a fake kubelet, and injected faults (fault_sim.py says which). Every
seed must end with no run lost, no pod name or attempt created twice, no user retry spent on
the infrastructure, no run stuck and no object left behind.

`UPDRAFT_FAULT_SEEDS=300` runs more seeds (the default keeps `make unit` short); a failing seed
prints its fault timeline, and `UPDRAFT_FAULT_SEED=<n>` replays one."""

from __future__ import annotations

import logging
import os

import pytest
from fault_sim import Result, simulate, summary

SEEDS = int(os.environ.get("UPDRAFT_FAULT_SEEDS", "40"))
ONE = os.environ.get("UPDRAFT_FAULT_SEED")


def _report(r: Result) -> str:
    lines = [f"seed {r.seed} (replay: UPDRAFT_FAULT_SEED={r.seed})"]
    for what in ("lost", "duplicated", "infra_spent", "stuck", "leaked", "crashed_code"):
        lines += [f"  {what}: {x}" for x in getattr(r, what)]
    return "\n".join(lines + ["  timeline:"] + [f"    {t}" for t in r.timeline])


@pytest.mark.timeout(max(60, SEEDS * 2))
async def test_no_run_is_lost_duplicated_stuck_or_leaked_under_faults(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    seeds = [int(ONE)] if ONE else range(SEEDS)
    results = [await simulate(seed) for seed in seeds]
    print("\n" + summary(results))
    bad = [r for r in results if r.bad]
    assert not bad, summary(results) + "\n" + "\n\n".join(_report(r) for r in bad[:3])
    assert sum(r.kills for r in results) >= len(results)  # the faults really happen
    assert sum(r.reports_not_recorded for r in results) > 0 < sum(r.reports for r in results)
