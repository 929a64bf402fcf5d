"""Task graph structure: task groups, dependency resolution, cycles, topological order. Pure.

dag-factory builds task ids and edges the way Airflow's TaskGroup does: a task keyed `load` in
group `etl` (prefix_group_id true, the default) becomes `etl.load`; a dependency may name a task
key or a group, and a group stands for its leaves when upstream and its roots when downstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Group:
    name: str
    parent: str | None = None
    prefix: bool = True
    dependencies: list[str] = field(default_factory=list)
    # checked default_args of the group: key -> (value, path it was written at)
    default_args: dict[str, tuple[object, str]] = field(default_factory=dict)


def group_chain(groups: dict[str, Group], name: str | None) -> list[str]:
    """Outermost first; stops at cycles (reported elsewhere)."""
    chain: list[str] = []
    while name is not None and name in groups and name not in chain:
        chain.insert(0, name)
        name = groups[name].parent
    return chain


def final_task_id(key: str, group: str | None, groups: dict[str, Group]) -> str:
    prefix = [g for g in group_chain(groups, group) if groups[g].prefix]
    return ".".join([*prefix, key]) if prefix else key


def group_cycle(groups: dict[str, Group]) -> list[str] | None:
    for start in groups:
        seen = [start]
        parent = groups[start].parent
        while parent is not None and parent in groups:
            if parent in seen:
                return seen[seen.index(parent):] + [parent]
            seen.append(parent)
            parent = groups[parent].parent
    return None


def members(groups: dict[str, Group], task_groups: dict[str, str | None], name: str) -> set[str]:
    """Task keys in group `name` or any group nested in it."""
    return {k for k, g in task_groups.items() if name in group_chain(groups, g)}


def find_cycle(upstream: dict[str, set[str]]) -> list[str] | None:
    """One dependency cycle as [a, b, ..., a] (a -> b meaning b depends on a), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(upstream, WHITE)
    downstream: dict[str, list[str]] = {t: [] for t in upstream}
    for t, ups in upstream.items():
        for u in ups:
            downstream.setdefault(u, []).append(t)
    for root in sorted(upstream):
        if colour[root] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                colour[node] = GREY
                path.append(node)
            nexts = sorted(downstream.get(node, []))
            if i < len(nexts):
                stack.append((node, i + 1))
                nxt = nexts[i]
                if colour.get(nxt) == GREY:
                    return path[path.index(nxt):] + [nxt]
                if colour.get(nxt) == WHITE:
                    stack.append((nxt, 0))
            else:
                colour[node] = BLACK
                path.pop()
    return None


def topological(upstream: dict[str, set[str]]) -> list[str]:
    """Kahn's order, ties broken by task id; assumes no cycle."""
    remaining = {t: set(u) for t, u in upstream.items()}
    order: list[str] = []
    while remaining:
        ready = sorted(t for t, u in remaining.items() if not u)
        if not ready:  # a cycle: callers check first; keep the rest in id order
            order.extend(sorted(remaining))
            break
        for t in ready:
            order.append(t)
            del remaining[t]
        for u in remaining.values():
            u.difference_update(ready)
    return order
