"""The workflow shapes the side-by-side benchmark runs on every system (pure: no I/O, no clock).

A shape is a DAG of task ids with their upstream tasks, each task doing the same trivial work.
From it come the figures' denominators: its depth (the tasks on its critical path) and its levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    name: str
    upstream: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def tasks(self) -> list[str]:
        return list(self.upstream)

    def levels(self) -> dict[str, int]:
        """Each task's level: 1 for a task with no upstream, else one more than its deepest upstream."""
        level: dict[str, int] = {}

        def visit(task: str, path: tuple[str, ...]) -> int:
            if task in path:
                raise ValueError(f"shape {self.name}: cycle through {task}")
            if task not in level:
                ups = self.upstream[task]
                level[task] = 1 + max((visit(u, path + (task,)) for u in ups), default=0)
            return level[task]

        for task in self.upstream:
            visit(task, ())
        return level

    @property
    def depth(self) -> int:
        """Tasks on the critical path (every task takes the same time)."""
        return max(self.levels().values(), default=0)

    def downstream(self) -> dict[str, tuple[str, ...]]:
        down: dict[str, list[str]] = {t: [] for t in self.upstream}
        for task, ups in self.upstream.items():
            for u in ups:
                down[u].append(task)
        return {t: tuple(d) for t, d in down.items()}


def single() -> Shape:
    return Shape("single", {"t0": ()})


def chain(n: int = 10) -> Shape:
    return Shape(f"chain{n}", {f"t{i}": ((f"t{i - 1}",) if i else ()) for i in range(n)})


def diamond() -> Shape:
    """A diamond of four tasks: a -> (b, c) -> d."""
    return Shape("diamond4", {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")})


def fanout(n: int = 50) -> Shape:
    """1 -> n -> 1: one task, n in parallel after it, one joining them."""
    wide = {f"w{i:02d}": ("start",) for i in range(n)}
    return Shape(f"fanout{n}", {"start": (), **wide, "end": tuple(wide)})


SHAPES = {s.name: s for s in (single(), diamond(), chain(10), fanout(50))}


def pick(names: str) -> list[Shape]:
    """Shapes by comma-separated names, in the order given; an unknown name is an error."""
    out = []
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        if name not in SHAPES:
            raise ValueError(f"unknown shape {name!r}; known: {', '.join(SHAPES)}")
        out.append(SHAPES[name])
    return out
