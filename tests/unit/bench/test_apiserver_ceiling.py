"""The API server ceiling benchmark's pure parts: the runs it creates and its figures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[3] / "bench"))

import apiserver_ceiling as ceiling  # noqa: E402


def test_each_run_is_a_distinct_scheduled_run_as_the_schedule_loop_writes_it():
    bodies = [ceiling.run_body(i) for i in range(5000)]
    assert len({b["metadata"]["name"] for b in bodies}) == 5000
    assert len({b["metadata"]["annotations"]["updraft.dev/scheduled-time"] for b in bodies[:3600]}) == 3600
    first = bodies[0]
    assert first["kind"] == "WorkflowRun" and first["spec"]["runType"] == "SCHEDULED"
    assert first["metadata"]["labels"]["updraft.dev/workflow"] == first["spec"]["workflowName"]
    assert "ownerReferences" not in first["metadata"]


def test_figures_are_creates_a_second_and_the_p99_in_milliseconds():
    assert ceiling.figures([0.01] * 99 + [0.2], wall_s=2.0, concurrency=16) == {
        "apiserver_run_creates_per_s_c16": 50.0, "apiserver_run_create_p99_ms_c16": 10.0}
    assert ceiling.figures([], wall_s=0.0, concurrency=64) == {
        "apiserver_run_creates_per_s_c64": None, "apiserver_run_create_p99_ms_c64": None}
