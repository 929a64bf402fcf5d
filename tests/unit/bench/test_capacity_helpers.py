"""The capacity benchmark's pure parts: percentiles, rates, the JSON merge that keeps other
benchmarks' keys, and the objects it creates. (The benchmark itself runs with `make bench`.)"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("capacity", Path(__file__).parents[3] / "bench" / "capacity.py")
assert SPEC and SPEC.loader
capacity = importlib.util.module_from_spec(SPEC)
sys.modules["capacity"] = capacity  # its dataclasses look their module up there
SPEC.loader.exec_module(capacity)


def test_nearest_rank_percentiles():
    xs = [float(x) for x in range(1, 101)]  # 1..100
    assert capacity.percentile(xs, 50) == 50.0
    assert capacity.percentile(xs, 99) == 99.0
    assert capacity.percentile(reversed(xs), 100) == 100.0
    assert capacity.percentile([7.0], 99) == 7.0
    assert capacity.percentile([], 50) is None


def test_rate_counts_only_the_window():
    done = [0.5, 10.0, 20.0, 59.9, 60.0, 90.0]
    assert capacity.rate_per_minute(done, 10.0, 60.0) == pytest.approx(3 * 60 / 50)
    assert capacity.rate_per_minute(done, 60.0, 60.0) is None


def test_results_merge_keeps_other_keys(tmp_path: Path):
    out = tmp_path / "out" / "bench.json"
    capacity.merge_results(out, {"schedule_delay_p99_s_100": 0.4, "runs_per_minute": 1.0})
    merged = capacity.merge_results(out, {"runs_per_minute": 250.0, "drain_5000_s": None})
    assert merged == {"schedule_delay_p99_s_100": 0.4, "runs_per_minute": 250.0, "drain_5000_s": None}
    assert json.loads(out.read_text()) == merged
    out.write_text("not json")  # a broken file is replaced, not a crash
    assert capacity.merge_results(out, {"a": 1}) == {"a": 1}


def test_bench_objects_are_single_task_empty_operator_runs():
    wf = capacity.workflow_body("cap3", 20)
    assert wf["kind"] == "Workflow" and wf["metadata"]["name"] == "cap3"
    assert "cap3:" in wf["spec"]["definition"] and "max_active_runs: 20" in wf["spec"]["definition"]
    assert wf["spec"]["definition"].count("operator: ") == 1 and capacity.EMPTY in wf["spec"]["definition"]
    run = capacity.run_body("d-000001", "cap3", "drain")
    assert run["spec"] == {"workflowName": "cap3"} and run["metadata"]["labels"] == {capacity.PHASE_LABEL: "drain"}


def test_the_definition_is_one_updraft_accepts():
    from updraft.definition import validate
    result = validate(capacity.workflow_body("cap0", 20)["spec"]["definition"])
    assert result.ok, result.errors
    assert result.graph is not None and list(result.graph.tasks) == ["t"] and result.graph.max_active_runs == 20


def test_smoke_is_small():
    args = capacity.parse_args(["--smoke"])
    assert args.rate * args.duration / 60 <= 60 and args.drain_runs <= 50 and args.drain_timeout <= 120
    full = capacity.parse_args([])
    assert full.drain_runs == 5000


def test_report_writes_the_phases_run_and_keeps_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "bench.json"
    capacity.merge_results(out, {"runs_per_minute": 42.0, "soak_rss_growth_mb": 3.0,
                                 "capacity": {"sustained": {"runs_per_minute": 42.0}}})
    args = capacity.parse_args(["--rate", "0", "--drain-runs", "1000", "--out", str(out)])
    drain = {"runs": 1000, "drain_s": None, "finished": 700, "create_s": 9.0,
             "operator": {"rss_mb_peak": 230.5, "restarts": 4}, "task_pods_by_node": {"kwok-node-0": 700}}
    merged = capacity.report({"drain": drain}, args)
    assert merged["runs_per_minute"] == 42.0 and merged["soak_rss_growth_mb"] == 3.0  # not run: kept
    assert merged["drain_1000_s"] is None  # did not finish in time: no figure, and no made-up one
    assert merged["operator_rss_mb_peak"] == 230.5
    assert merged["capacity"]["drain"]["finished"] == 700
    assert merged["capacity"]["sustained"] == {"runs_per_minute": 42.0}  # the last sustained phase's detail
    assert "700/1000 finished" in capsys.readouterr().out


def test_a_scheduled_runs_delay_counts_from_its_fire_time_for_fires_after_every_workflow_was_ready():
    import capacity_schedule as sched  # capacity.py put bench/ on the path

    run = {"metadata": {"name": "w-s-202612030900", "annotations": {sched.SCHEDULED_TIME: "2026-12-03T09:00:00Z"}}}
    fire = sched.fire_time(run)
    assert fire == 1796288400.0
    assert sched.fire_time({"metadata": {"name": "manual"}}) is None
    assert sched.fire_time({"metadata": {"annotations": {sched.SCHEDULED_TIME: "soon"}}}) is None
    seen = {"a": fire + 0.4, "b": fire + 1.5, "early": fire - 60 + 30, "clock-skew": fire - 0.1}
    fires = {"a": fire, "b": fire, "early": fire - 60, "clock-skew": fire}
    assert sorted(sched.delays(seen, fires, first_fire=fire)) == pytest.approx([0.0, 0.4, 1.5])


def test_the_scheduled_workflows_fire_every_minute_and_are_accepted():
    import capacity_schedule as sched
    from updraft.definition import validate

    body = sched.scheduled_workflow_body("sch100-0007")
    result = validate(body["spec"]["definition"])
    assert result.ok, result.errors
    assert result.graph is not None and list(result.graph.tasks) == ["t"]
    assert "schedule: '* * * * *'" in body["spec"]["definition"]


def test_the_soak_reads_stored_objects_and_database_size_from_the_api_servers_metrics():
    import capacity_soak as soak

    text = "\n".join([
        "# HELP apiserver_storage_objects Number of stored objects",
        'apiserver_storage_objects{resource="workflowruns.updraft.dev"} 212',
        'apiserver_storage_objects{resource="pods"} 31',
        'apiserver_storage_objects{resource="leases.coordination.k8s.io"} 4',
        'apiserver_storage_size_bytes{storage_cluster_id="a"} 2.4576e+07',
        'apiserver_storage_size_bytes{storage_cluster_id="b"} 1.0e+06',
        "apiserver_storage_objects 7",  # no labels: not one of ours
    ])
    assert soak.storage_figures(text) == {"workflowruns.updraft.dev": 212.0, "pods": 31.0, "db_bytes": 24576000.0}


def test_the_soaks_rss_growth_compares_the_early_window_with_the_end():
    import capacity_soak as soak

    samples = [{"t": t, "rss_mb": rss} for t, rss in [(0, 80.0), (10, 120.0), (11, 124.0), (12, 122.0),
                                                      (50, 130.0), (90, 125.0), (91, 127.0), (92, None)]]
    figures = soak.rss_growth(samples, early=(10, 13), end_at=90)
    assert figures == {"rss_mb_early": 122.0, "rss_mb_end": 127.0, "rss_growth_mb": 5.0}
    assert soak.rss_growth(samples, early=(200, 300), end_at=90)["rss_growth_mb"] is None


def test_each_phase_gets_the_chart_values_it_needs() -> None:
    from capacity import phase_values

    assert phase_values("schedule_1000", 20) == ["--set", "quotas.maxWorkflows=1010"]
    assert phase_values("schedule_10", 20) == ["--set", "quotas.maxWorkflows=100"]  # never below the default
    assert phase_values("soak", 20) == ["--set", "runs.historyLimit=20"]
    assert phase_values("drain", 20) == []


def test_the_api_phase_runs_without_an_operator() -> None:
    from capacity import phase_values

    assert phase_values("api", 20) == ["--set", "operator.replicas=0"]


def test_the_operators_pass_delay_is_read_from_its_histogram_over_every_workflow():
    import capacity_schedule as sched

    def series(wf: str, counts: list[int]) -> str:
        bounds = ["0.5", "1.0", "2.0", "+Inf"]
        return "".join(f'updraft_schedule_delay_seconds_bucket{{le="{b}",workflow="{wf}"}} {c}\n'
                       for b, c in zip(bounds, counts))

    text = ("# HELP updraft_schedule_delay_seconds From a scheduled fire time to its run's creation.\n"
            "# TYPE updraft_schedule_delay_seconds histogram\n"
            + series("a", [40, 45, 50, 50]) + series("b", [10, 40, 49, 50]))
    # 100 passes: 50 within 0.5 s, 85 within 1 s, 99 within 2 s
    assert sched.histogram_quantiles(text, sched.PASS_DELAY) == {"count": 100, "p50_le_s": 0.5, "p99_le_s": 2.0}
    assert sched.histogram_quantiles(text, sched.PASS_DELAY, (100,))["p100_le_s"] is None  # one past 2 s
    assert sched.histogram_quantiles("", sched.PASS_DELAY) == {"count": 0, "p50_le_s": None, "p99_le_s": None}
