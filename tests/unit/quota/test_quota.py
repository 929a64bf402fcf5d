"""Admission in creation order within per-workflow and cluster limits; version pruning; counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from updraft.quota import Quotas, RunSlot, admitted, versions_to_prune
from updraft.quota.limits import check_workflow_count

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def slot(name: str, wf: str, minute: int, state: str) -> RunSlot:
    return RunSlot(f"ns/{name}", f"ns/{wf}", T0 + timedelta(minutes=minute), state)


def test_per_workflow_limit_and_creation_order() -> None:
    runs = [slot("a1", "a", 0, "RUNNING"), slot("a3", "a", 3, "QUEUED"), slot("a2", "a", 2, "QUEUED"),
            slot("b1", "b", 1, "STARTING")]
    assert admitted(runs, {"ns/a": 2}, 100) == {"ns/a2", "ns/b1"}


def test_cluster_limit_is_shared_in_creation_order() -> None:
    runs = [slot("a1", "a", 0, "RUNNING"), slot("b1", "b", 5, "QUEUED"), slot("c1", "c", 4, "QUEUED")]
    assert admitted(runs, {}, 2) == {"ns/c1"}
    assert admitted(runs, {}, 1) == set()


def test_finished_runs_free_their_slot() -> None:
    runs = [slot("a1", "a", 0, "SUCCESS"), slot("a2", "a", 1, "QUEUED")]
    assert admitted(runs, {"ns/a": 1}, 100) == {"ns/a2"}


def test_version_pruning_skips_pinned_and_latest() -> None:
    versions = [(f"v{i}", T0 + timedelta(minutes=i)) for i in range(5)]
    assert versions_to_prune(versions, pinned={"v0"}, keep=3, latest="v4") == ["v1", "v2"]
    assert versions_to_prune(versions, pinned=set(), keep=5) == []
    assert versions_to_prune(versions, pinned={"v0", "v1", "v2", "v3"}, keep=2, latest="v4") == []


def test_workflow_count() -> None:
    assert check_workflow_count(99, Quotas()) is None
    exceeded = check_workflow_count(100, Quotas())
    assert exceeded is not None and exceeded.limit == 100 and "100" in exceeded.message
