"""The console's task graph at scale: layout (once per version) and SVG render (every page view
of a run), for generated definitions of 20, 100 and 500 tasks. A figure to watch, not a pass/fail
timing (docs/performance.md, "Console graph").

    PYTHONPATH=operator .venv/bin/python bench/bench_console_graph.py [--repeat 5]

The graphs are layered like real pipelines: WIDTH parallel chains that fan in every few layers,
plus a few long edges that skip layers (what makes dummy points). It also validates the
generated definition, to compare with what laying it out costs."""

from __future__ import annotations

import argparse
import statistics
import time

from updraft.console.graph import graph_layout, render
from updraft.console.layout import crossings
from updraft.definition import validate

OPERATOR = "EmptyOperator"


def definition(tasks: int, width: int = 10) -> str:
    lines = ["bench:", "  schedule: None", "  tasks:"]
    for i in range(tasks):
        layer, lane = divmod(i, width)
        deps = []
        if layer:
            deps.append(f"t{(layer - 1) * width + lane}")
            if layer % 3 == 0:
                deps.append(f"t{(layer - 1) * width + (lane + 1) % width}")
            if layer >= 4 and lane == 0:
                deps.append(f"t{(layer - 4) * width + width - 1}")  # a long edge
        dep = f", dependencies: [{', '.join(deps)}]" if deps else ""
        lines.append(f"    t{i}: {{operator: {OPERATOR}{dep}}}")
    return "\n".join(lines) + "\n"


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    repeat = ap.parse_args().repeat
    print(f"{'tasks':>5} {'edges':>6} {'validate ms':>12} {'layout ms':>10} {'render ms':>10} {'svg KB':>7} {'crossings':>9}")
    for n in (20, 100, 500):
        graph = validate(definition(n)).graph
        assert graph is not None
        edges = sum(len(t.upstream) for t in graph.tasks.values())
        v = timed(lambda: validate(definition(n)), repeat)
        laid = graph_layout(graph)
        lay = timed(lambda: graph_layout(graph), repeat)
        states = {t: "SUCCESS" for t in graph.tasks}
        ren = timed(lambda: render(laid, states, link=lambda t: f"/ui/x/{t}"), repeat)
        size = len(render(laid, states, link=lambda t: f"/ui/x/{t}").encode()) / 1024
        print(f"{n:>5} {edges:>6} {v:>12.1f} {lay:>10.1f} {ren:>10.1f} {size:>7.0f} {crossings(laid):>9}")


if __name__ == "__main__":
    main()
