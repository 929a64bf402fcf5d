"""Fire times per second for a few crons and zones: a figure to watch, not a pass/fail timing.

    .venv/bin/python bench/bench_schedule.py [--seconds 1.0]

Chained `fire_times` is what `updraft schedule next` and the scheduler's next-wake computation
do; `next_due` is the scheduler's per-tick call. Each line runs for about --seconds.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from updraft.quota import RunSlot, admit
from updraft.schedule import fire_times, next_due, parse

CASES = [
    ("* * * * *", "UTC"),
    ("*/15 * * * *", "Europe/Berlin"),
    ("30 2 * * *", "Europe/Berlin"),
    ("0 9 * * 1-5", "America/New_York"),
    ("0 3 * * *", "Australia/Lord_Howe"),
    ("@monthly", "Asia/Kathmandu"),
]
AFTER = datetime(2026, 3, 1, tzinfo=timezone.utc)


def rate(fn, seconds: float) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done / elapsed, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.0)
    seconds = ap.parse_args().seconds
    print(f"{'cron':<16} {'zone':<22} {'fire_times/s':>13} {'next_due/s':>11}")
    for cron, zone in CASES:
        s = parse(cron, zone)
        chained, _ = rate(lambda s=s: len(fire_times(s, AFTER, 100)), seconds)
        due, _ = rate(lambda s=s: next_due(s, AFTER, AFTER + timedelta(days=3)) is not None, seconds)
        print(f"{cron:<16} {zone:<22} {chained:>13,.0f} {due:>11,.0f}")
    runs = [RunSlot(f"r{i}", f"w{i % 100}", AFTER + timedelta(seconds=i), "QUEUED" if i % 3 else "RUNNING")
            for i in range(10_000)]
    per_s, _ = rate(lambda: (admit(runs, runs, {}, 100), 1)[1], seconds)
    print(f"admission over 10,000 runs / 100 workflows: {per_s:,.0f} decisions/s")


if __name__ == "__main__":
    main()
