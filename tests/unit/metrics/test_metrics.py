"""Run and task transitions move the right series, with bounded labels."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client import REGISTRY

from updraft import metrics

metrics.register_operator_series()  # as the operator does when it starts


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_run_and_task_transitions_are_counted_once() -> None:
    before = value("updraft_runs_finished_total", workflow="wm", run_type="SCHEDULED", state="FAILED")
    started = value("updraft_runs_started_total", workflow="wm", run_type="SCHEDULED")
    old = {"runState": "RUNNING", "startedOn": "2026-01-01T00:00:00Z",
           "taskInstances": [{"taskId": "a", "status": "RUNNING", "attemptNumber": 1}]}
    new = {"runState": "FAILED", "startedOn": "2026-01-01T00:00:00Z", "completedOn": "2026-01-01T00:01:00Z",
           "taskInstances": [{"taskId": "a", "status": "FAILED", "attemptNumber": 1,
                              "startedAt": "2026-01-01T00:00:00Z", "endedAt": "2026-01-01T00:00:30Z"}]}
    metrics.record_run_change("wm", "SCHEDULED", old, new)
    metrics.record_run_change("wm", "SCHEDULED", new, new)  # no change, no count
    assert value("updraft_runs_finished_total", workflow="wm", run_type="SCHEDULED", state="FAILED") == before + 1
    assert value("updraft_runs_started_total", workflow="wm", run_type="SCHEDULED") == started
    assert value("updraft_task_attempts_total", workflow="wm", state="FAILED") >= 1
    metrics.record_run_change("wm", "SCHEDULED", {"runState": "QUEUED"}, {"runState": "RUNNING"})
    assert value("updraft_runs_started_total", workflow="wm", run_type="SCHEDULED") == started + 1


def test_run_state_gauge_tracks_unfinished_runs() -> None:
    metrics.RUN_STATES.set("ns", "r1", "QUEUED")
    metrics.RUN_STATES.set("ns", "r2", "RUNNING")
    assert value("updraft_runs", state="QUEUED") >= 1
    metrics.RUN_STATES.set("ns", "r1", "SUCCESS")
    metrics.RUN_STATES.set("ns", "r2", "FAILED")
    assert ("ns", "r1") not in metrics.RUN_STATES.current and ("ns", "r2") not in metrics.RUN_STATES.current


def test_no_high_cardinality_labels() -> None:
    for family in REGISTRY.collect():
        if family.name.startswith("updraft_"):
            for sample in family.samples:
                assert not {"run", "run_id", "task", "task_id", "pod"} & set(sample.labels), family.name


def test_operator_gauges_are_exported_by_the_operator_only() -> None:
    """The API process imports this module for its request series; it must not export the
    operator's gauges as zeros (a 0 leader gauge from an API pod would confuse the alerts)."""
    script = ("import prometheus_client as p, updraft.metrics as m; a = p.generate_latest().decode(); "
              "m.register_operator_series(); m.register_operator_series(); b = p.generate_latest().decode(); "
              "print(int('updraft_operator_leader' in a), int('updraft_operator_leader' in b), int('updraft_runs{' in b))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "1", "1"]
