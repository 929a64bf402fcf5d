"""The api phase of the capacity benchmark, its pure parts: the latency figures, the key names,
which runs and pages are asked for, the objects it stores and what it reads back from /proc and
/metrics. (The phase itself runs with `bench/capacity.py --api-runs N`.)"""

from __future__ import annotations

import importlib
import sys
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).parents[3] / "bench"
sys.path.insert(0, str(BENCH))
capacity_api = importlib.import_module("capacity_api")


def test_latencies_are_milliseconds_by_nearest_rank():
    seconds = [x / 1000 for x in range(1, 101)]  # 1..100 ms
    assert capacity_api.latency_ms(seconds) == {"calls": 100, "p50_ms": 50.0, "p99_ms": 99.0, "max_ms": 100.0}
    assert capacity_api.latency_ms([]) == {"calls": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}


def test_keys_name_the_number_of_stored_runs():
    keys = capacity_api.result_keys(10000, {"p50_ms": 12.0, "p99_ms": 30.5}, {"p50_ms": 400.0, "p99_ms": 650.0}, 91.2)
    assert keys == {"api_get_run_p50_ms_10000": 12.0, "api_get_run_p99_ms_10000": 30.5,
                    "api_list_runs_p50_ms_10000": 400.0, "api_list_runs_p99_ms_10000": 650.0,
                    "api_rss_mb_10000": 91.2}


def test_runs_are_spread_over_the_workflows_round_robin():
    stored = capacity_api.run_names(7, ["a", "b", "c"])
    assert stored[:4] == [("api-000000", "a"), ("api-000001", "b"), ("api-000002", "c"), ("api-000003", "a")]
    assert [w for _, w in stored].count("a") == 3 and len({n for n, _ in stored}) == 7


def test_picked_runs_are_distinct_reproducible_and_stored():
    stored = capacity_api.run_names(1000, ["a", "b"])
    picked = capacity_api.pick_runs(stored, 200)
    assert len(set(picked)) == 200 and set(picked) <= set(stored)
    assert picked == capacity_api.pick_runs(stored, 200)
    assert picked != capacity_api.pick_runs(stored, 200, seed=2)
    assert len(capacity_api.pick_runs(stored[:3], 10)) == 10  # fewer runs than calls: repeats


def test_list_calls_walk_pages_from_a_first_page():
    starts = capacity_api.walk_starts(50, 5, ["a", "b", "c"])
    assert len(starts) == 50
    assert all((s is not None) == (i % 5 == 0) for i, s in enumerate(starts))
    assert {s for s in starts if s is not None} <= {"a", "b", "c"}


def test_stored_runs_carry_what_list_workflow_runs_selects_by():
    run = capacity_api.run_body("api-000004", "apibench1")
    assert run["metadata"]["labels"]["updraft.dev/workflow"] == "apibench1"
    assert run["metadata"]["labels"][capacity_api.PHASE_LABEL] == "api"
    assert run["spec"]["workflowName"] == "apibench1"
    assert capacity_api.workflow_body("apibench1")["metadata"]["labels"] == {capacity_api.PHASE_LABEL: "api"}


def test_a_stored_run_reads_as_a_finished_run_through_the_api_views():
    from updraft.api import views

    run = capacity_api.run_body("api-000004", "apibench1")
    run["metadata"]["creationTimestamp"] = "2026-12-03T14:00:00Z"
    run["status"] = capacity_api.finished_status("api-000004", "apibench1", datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc))
    detail = views.run_detail(run, "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/apibench1-x")["RunDetail"]
    assert detail["RunState"] == "SUCCESS" and detail["Duration"] == 3
    assert detail["TaskInstances"] == ["api-000004.t"]


def test_memory_from_proc_status():
    text = "Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t3\n"
    assert capacity_api.proc_memory_mb(text) == {"VmRSS": 100.0, "VmHWM": 200.0}
    assert capacity_api.proc_memory_mb("Name:\tpython\n") == {}


def test_server_mean_of_one_operation_from_a_histogram():
    metric = "updraft_api_request_duration_seconds"
    text = (f'{metric}_bucket{{le="0.005",operation="GetWorkflowRun"}} 3.0\n'
            f'{metric}_count{{operation="GetWorkflowRun"}} 4.0\n'
            f'{metric}_sum{{operation="GetWorkflowRun"}} 0.2\n'
            f'{metric}_count{{operation="ListWorkflowRuns"}} 2.0\n'
            f'{metric}_sum{{operation="ListWorkflowRuns"}} 1.0\n')
    assert capacity_api.mean_seconds(text, metric, "GetWorkflowRun") == 0.05
    assert capacity_api.mean_seconds(text, metric, "ListWorkflowRuns") == 0.5
    assert capacity_api.mean_seconds(text, metric, "ListWorkflows") is None
