"""A task graph as inline SVG (pure): the layout of a version (computed once, cached by the
caller) with the states of one run laid over it as CSS classes (`s-success`, `s-running` ...), so
the page's stylesheet colours the tasks and nothing is laid out again while a run moves on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape

from updraft.console.layout import NODE_H, NODE_W, Layout, layout
from updraft.definition.model import TaskGraph

LABEL_CHARS = 22


def graph_layout(graph: TaskGraph) -> Layout:
    return layout(list(graph.tasks), {t.task_id: t.upstream for t in graph.tasks.values()})


def state_class(state: str | None) -> str:
    return "s-" + (state or "none").lower().replace("_", "-")


def _label(task_id: str) -> str:
    return task_id if len(task_id) <= LABEL_CHARS else task_id[: LABEL_CHARS - 1] + "\u2026"


def render(result: Layout, states: Mapping[str, str] | None = None,
           link: Callable[[str], str] | None = None) -> str:
    """The SVG; `states` maps task ids to their state (absent: no state), `link` a task to its page."""
    states = states or {}
    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{result.width}" height="{result.height}" '
             f'viewBox="0 0 {result.width} {result.height}" role="img" aria-label="task graph">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs><g class="edges">']
    for _, _, line in result.edges:
        points = " ".join(f"{x},{y}" for x, y in line)
        parts.append(f'<polyline points="{points}" marker-end="url(#arrow)"/>')
    parts.append('</g><g class="nodes">')
    for task_id, box in result.boxes.items():
        state = states.get(task_id)
        tid = escape(task_id)
        node = (f'<g class="node {state_class(state)}" data-task="{tid}" data-state="{escape(state or "NONE")}">'
                f'<title>{tid}: {escape(state or "no state")}</title>'
                f'<rect x="{box.x}" y="{box.y}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
                f'<text x="{box.x + 10}" y="{box.y + NODE_H // 2 + 5}">{escape(_label(task_id))}</text></g>')
        if link is not None:
            node = f'<a href="{escape(link(task_id))}">{node}</a>'
        parts.append(node)
    parts.append("</g></svg>")
    return "".join(parts)
