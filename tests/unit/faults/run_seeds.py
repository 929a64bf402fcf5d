"""Run many seeds of the fault tier outside pytest and print its summary line (and every bad seed):
`PYTHONPATH=operator:tests/unit:tests/unit/faults python tests/unit/faults/run_seeds.py 300`."""

import asyncio
import logging
import sys
import time

from fault_sim import simulate, summary

logging.disable(logging.WARNING)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
started = time.monotonic()
results = [asyncio.run(simulate(seed)) for seed in range(n)]
print(summary(results), f"({time.monotonic() - started:.0f} s)")
for r in results:
    if r.bad or r.infra_exhausted:
        print(r.seed, r.lost[:2], r.duplicated[:2], r.infra_spent[:2], r.stuck[:2], r.leaked[:2],
              r.crashed_code[:2], r.infra_exhausted[:2])
