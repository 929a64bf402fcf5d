"""A layered (Sugiyama-style) layout of a task graph, left to right (pure; no I/O, no clock).

1. rank: a task's column is the longest path from a task without upstream (so every edge points
   right);
2. an edge spanning several columns gets a dummy point in each column it crosses, so that edges
   bend around tasks instead of crossing them;
3. order: the tasks of each column are ordered by the mean position of their neighbours in the
   previous column, sweeping right then left (SWEEPS times), which removes most crossings;
4. coordinates: each column centred on the tallest one.

Deterministic: the same graph gives the same layout (ties are broken by the input order, which
for a TaskGraph is its topological order with ties by task id). Versions are immutable, so a
version's layout is computed once and cached by the caller (console.routes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NODE_W, NODE_H = 180, 34
COL_GAP, ROW_GAP = 60, 14
MARGIN = 10
SWEEPS = 8


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    column: int


@dataclass(frozen=True)
class Layout:
    boxes: Mapping[str, Box]  # task id -> its box (top-left corner; NODE_W x NODE_H)
    edges: tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...]  # (upstream, downstream, polyline)
    width: int
    height: int


def _ranks(order: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> dict[str, int]:
    rank: dict[str, int] = dict.fromkeys(order, 0)
    # `order` is topological for a TaskGraph (one pass); repeating keeps any order correct, and
    # the bound ends it on a cycle (which a validated graph cannot have)
    for _ in range(len(order) + 1):
        changed = False
        for t in order:
            r = max((rank[u] + 1 for u in upstream.get(t, ())), default=0)
            if rank[t] != r:
                rank[t], changed = min(r, len(order)), True
        if not changed:
            break
    return rank


def layout(order: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> Layout:
    """Lay out tasks `order` (ids) whose upstream tasks are `upstream[id]` (ids in `order`)."""
    known = set(order)
    ups = {t: [u for u in upstream.get(t, ()) if u in known] for t in order}
    rank = _ranks(order, ups)
    columns: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for t in order:
        columns[rank[t]].append(t)
    # dummy points for long edges: "~<upstream>~<downstream>~<column>"
    preds: dict[str, list[str]] = {t: [] for t in order}
    succs: dict[str, list[str]] = {t: [] for t in order}
    chains: list[tuple[str, str, list[str]]] = []
    for t in order:
        for u in ups[t]:
            chain = [u]
            for c in range(rank[u] + 1, rank[t]):
                dummy = f"~{u}~{t}~{c}"
                columns[c].append(dummy)
                preds[dummy], succs[dummy] = [], []
                chain.append(dummy)
            chain.append(t)
            for a, b in zip(chain, chain[1:]):
                succs[a].append(b)
                preds[b].append(a)
            chains.append((u, t, chain))
    position = {n: i for col in columns for i, n in enumerate(col)}

    def sweep(cols: Sequence[list[str]], neighbours: Mapping[str, list[str]]) -> None:
        for col in cols:
            def key(n: str) -> tuple[float, int]:
                near = neighbours[n]
                mean = sum(position[m] for m in near) / len(near) if near else float(position[n])
                return (mean, position[n])
            col.sort(key=key)
            for i, n in enumerate(col):
                position[n] = i

    for i in range(SWEEPS):
        if i % 2 == 0:
            sweep(columns[1:], preds)
        else:
            sweep(columns[-2::-1], succs)

    tallest = max((len(c) for c in columns), default=0)
    step_x, step_y = NODE_W + COL_GAP, NODE_H + ROW_GAP
    points: dict[str, tuple[int, int]] = {}
    boxes: dict[str, Box] = {}
    for c, col in enumerate(columns):
        offset = (tallest - len(col)) * step_y // 2
        for i, n in enumerate(col):
            x, y = MARGIN + c * step_x, MARGIN + offset + i * step_y
            points[n] = (x, y)
            if not n.startswith("~"):
                boxes[n] = Box(x, y, c)
    edges = []
    for u, t, chain in chains:
        ux, uy = points[u]
        line = [(ux + NODE_W, uy + NODE_H // 2)]
        line += [(points[d][0] + NODE_W // 2, points[d][1] + NODE_H // 2) for d in chain[1:-1]]
        tx, ty = points[t]
        line.append((tx, ty + NODE_H // 2))
        edges.append((u, t, tuple(line)))
    width = MARGIN * 2 + max(len(columns) * step_x - COL_GAP, 0)
    height = MARGIN * 2 + max(tallest * step_y - ROW_GAP, 0)
    return Layout(boxes, tuple(edges), width, height)


def crossings(result: Layout) -> int:
    """How many pairs of edge segments between the same two columns cross (a quality measure)."""
    segments: dict[int, list[tuple[int, int]]] = {}
    for _, _, line in result.edges:
        for (x1, y1), (x2, y2) in zip(line, line[1:]):
            segments.setdefault(x1 // (NODE_W + COL_GAP), []).append((y1, y2))
    total = 0
    for segs in segments.values():
        for i, (a1, a2) in enumerate(segs):
            for b1, b2 in segs[i + 1:]:
                if (a1 - b1) * (a2 - b2) < 0:
                    total += 1
    return total
