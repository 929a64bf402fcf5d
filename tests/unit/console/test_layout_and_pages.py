"""The console's pure parts: the layered layout (edges point right, no overlaps, long edges bend
through their own points, deterministic, 500 tasks), the SVG overlay of states, the start form's
parameters, the sessions' single use and binding, and the HTML's escaping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from updraft.api.credentials import Principal
from updraft.api.errors import ApiError
from updraft.console import pages
from updraft.console.graph import graph_layout, render
from updraft.console.layout import NODE_H, NODE_W, crossings, layout
from updraft.console.params import parse_form_parameters
from updraft.console.sessions import SessionStore, csrf_ok
from updraft.definition import validate

NOW = datetime(2026, 12, 2, tzinfo=timezone.utc)
ALICE = Principal("AKIA1", "s", "arn:aws:iam::123456789012:user/alice", None)


def _wide_graph(n: int, width: int = 10) -> tuple[list[str], dict[str, list[str]]]:
    order = [f"t{i}" for i in range(n)]
    upstream: dict[str, list[str]] = {}
    for i in range(width, n):
        upstream[f"t{i}"] = [f"t{i - width}"] + ([f"t{i - 4 * width}"] if i >= 4 * width and i % width == 0 else [])
    return order, upstream


def test_every_edge_points_right_and_no_boxes_overlap() -> None:
    order, upstream = _wide_graph(500)
    result = layout(order, upstream)
    assert set(result.boxes) == set(order)
    for u, t, line in result.edges:
        assert result.boxes[u].column < result.boxes[t].column
        xs = [x for x, _ in line]
        assert xs == sorted(xs)  # left to right, through the dummy points of long edges
    seen = {(b.x, b.y) for b in result.boxes.values()}
    assert len(seen) == len(order)
    for b in result.boxes.values():
        assert 0 <= b.x and b.x + NODE_W <= result.width and 0 <= b.y and b.y + NODE_H <= result.height
    long_edges = [line for u, t, line in result.edges if result.boxes[t].column - result.boxes[u].column > 1]
    assert long_edges and all(len(line) > 2 for line in long_edges)


def test_the_layout_is_deterministic_and_a_diamond_has_no_crossing() -> None:
    order = ["start", "left", "right", "join"]
    upstream = {"left": ["start"], "right": ["start"], "join": ["left", "right"]}
    assert layout(order, upstream) == layout(order, upstream)
    assert crossings(layout(order, upstream)) == 0
    result = layout(order, upstream)
    assert result.boxes["left"].column == result.boxes["right"].column == 1 and result.boxes["join"].column == 2


def test_sweeps_remove_crossings_a_naive_order_has() -> None:
    # a1 -> b2, a2 -> b1: listed in the crossing order; the sweeps uncross them
    order = ["a1", "a2", "b1", "b2"]
    result = layout(order, {"b2": ["a1"], "b1": ["a2"]})
    assert crossings(result) == 0


def test_a_cycle_does_not_hang_the_layout() -> None:
    result = layout(["a", "b"], {"a": ["b"], "b": ["a"]})
    assert set(result.boxes) == {"a", "b"}


def test_states_are_laid_over_as_classes_and_text_is_escaped() -> None:
    graph = validate("d:\n  tasks:\n    a: {operator: EmptyOperator}\n    b: {operator: EmptyOperator, dependencies: [a]}\n").graph
    assert graph is not None
    svg = render(graph_layout(graph), {"a": "SUCCESS", "b": "UP_FOR_RETRY"}, link=lambda t: f"/ui/x?t={t}&y=<")
    assert 'class="node s-success" data-task="a"' in svg and 'class="node s-up-for-retry"' in svg
    assert "&y=<" not in svg and "&amp;y=&lt;" in svg
    assert "<script" not in pages.state_badge('<script>alert(1)</script>')


def test_form_parameters_keep_types_send_changes_only_and_name_bad_fields() -> None:
    defined = {"limit": 10, "label": "nightly", "opts": {"default": [1, 2], "type": "array"}, "free": None}
    form = {"csrf": "x", "param.limit": "25", "param.label": "nightly", "param.opts": "[1, 2]", "param.free": "hello"}
    assert parse_form_parameters(form, defined) == {"limit": 25, "free": "hello"}
    with pytest.raises(ApiError) as bad:
        parse_form_parameters({"param.limit": "ten", "param.nope": "1"}, defined)
    fields = {f["Name"] for f in bad.value.members["FieldList"]}
    assert fields == {"OverrideParameters.limit", "OverrideParameters.nope"}


def test_a_launch_token_is_used_once_within_its_time() -> None:
    store = SessionStore()
    made = store.launch(ALICE, NOW, url_seconds=60, session_seconds=3600)
    assert made.session_expires_at == NOW + timedelta(hours=1)
    redeemed = store.redeem(made.token, "10.0.0.1", NOW + timedelta(seconds=30))
    assert redeemed is not None
    cookie, session = redeemed
    assert session.principal == ALICE and session.client_ip == "10.0.0.1"
    assert store.redeem(made.token, "10.0.0.1", NOW) is None  # used
    late = store.launch(ALICE, NOW, url_seconds=5, session_seconds=3600)
    assert store.redeem(late.token, "10.0.0.1", NOW + timedelta(seconds=5)) is None  # expired
    assert store.find(cookie, "10.0.0.1", NOW) == session
    assert store.find(cookie, "10.0.0.2", NOW) is None  # another address
    assert store.find(cookie, "10.0.0.1", NOW + timedelta(hours=1)) is None  # expired, and forgotten
    assert store.find(cookie, "10.0.0.1", NOW) is None


def test_the_store_is_bounded_and_csrf_compares_exactly() -> None:
    store = SessionStore(max_sessions=3)
    for i in range(10):
        store.launch(ALICE, NOW + timedelta(seconds=i), url_seconds=60, session_seconds=60)
    assert len(store._launches) <= 3  # the oldest went first
    assert csrf_ok("abc", "abc") and not csrf_ok("abc", "abd") and not csrf_ok("abc", None) and not csrf_ok("", "")
