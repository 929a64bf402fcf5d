"""How long the API commands take, as a user runs them (a new process each time): a figure to
watch, not a pass/fail timing. Medians over --repeat runs, with min and max.

    .venv/bin/python bench/bench_cli.py [--repeat 11] [--out bench/out/cli.json]
    .venv/bin/python bench/bench_cli.py --endpoint-url http://HOST:8443 --workflow NAME [--run RUN]

Without --endpoint-url only the local paths are timed (help, an option error): the cost of
starting Python and importing the commands. With it (AWS credentials and region from the
environment, as the CLI reads them), also `workflow list`, `workflow get`, `run list` and, with
--run, `run get`: a whole command, connection and calls included.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(argv: list[str], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "updraft.cli", *argv], capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "n": repeat}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--endpoint-url")
    ap.add_argument("--workflow")
    ap.add_argument("--run")
    ap.add_argument("--out", type=Path, help="also write the results there as JSON")
    args = ap.parse_args()
    cases = {"run start --help": ["run", "start", "--help"],
             "run start, bad -p (no network)": ["run", "start", "wf", "-p", "novalue"]}
    if args.endpoint_url:
        conn = ["--endpoint-url", args.endpoint_url]
        cases["workflow list"] = ["workflow", "list", *conn]
        if args.workflow:
            cases["workflow get"] = ["workflow", "get", args.workflow, *conn]
            cases["run list"] = ["run", "list", args.workflow, *conn]
            if args.run:
                cases["run get"] = ["run", "get", args.workflow, args.run, *conn]
    results = {name: timed(argv, args.repeat) for name, argv in cases.items()}
    for name, r in results.items():
        print(f"{name:<34} median {r['median_s']*1000:6.0f} ms  (min {r['min_s']*1000:.0f}, max {r['max_s']*1000:.0f}, "
              f"n={r['n']})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
