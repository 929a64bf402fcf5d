"""Admission in creation order within per-workflow and cluster limits, with a fixed clock; the
guide's quotas and their checks; version pruning."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from updraft.quota import QuotaExceeded, Quotas, RunSlot, admit, admitted, check_workflow_count, versions_to_prune

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def slot(spec: str) -> RunSlot:
    """`name:workflow:minute:STATE`, e.g. `a1:a:0:RUNNING`."""
    name, wf, minute, state = spec.split(":")
    return RunSlot(name, wf, T0 + timedelta(minutes=int(minute)), state)


ADMISSION = [
    # (id, runs, per-workflow limits, cluster limit, expected admitted in order)
    ("all-fit", ["a1:a:0:QUEUED", "b1:b:1:QUEUED"], {}, 100, ["a1", "b1"]),
    ("creation-order", ["a3:a:3:QUEUED", "a2:a:2:QUEUED", "a1:a:1:QUEUED"], {}, 100, ["a1", "a2", "a3"]),
    ("ties-by-name", ["a-b:a:5:QUEUED", "a-a:a:5:QUEUED"], {}, 100, ["a-a", "a-b"]),
    ("per-workflow-limit", ["a1:a:0:RUNNING", "a3:a:3:QUEUED", "a2:a:2:QUEUED", "b1:b:1:STARTING"], {"a": 2}, 100,
     ["b1", "a2"]),
    ("workflow-at-limit-does-not-block-others", ["a1:a:0:RUNNING", "a2:a:1:QUEUED", "b1:b:2:QUEUED"], {"a": 1}, 100,
     ["b1"]),
    ("cluster-limit-shared-in-order", ["a1:a:0:RUNNING", "b1:b:5:QUEUED", "c1:c:4:QUEUED"], {}, 2, ["c1"]),
    ("cluster-full", ["a1:a:0:RUNNING", "b1:b:5:QUEUED"], {}, 1, []),
    ("cluster-limit-blocks-later-runs-of-other-workflows", ["a1:a:1:QUEUED", "a2:a:2:QUEUED", "b1:b:3:QUEUED"],
     {"a": 5}, 2, ["a1", "a2"]),
    ("stopping-holds-a-slot", ["a1:a:0:STOPPING", "a2:a:1:QUEUED"], {"a": 1}, 100, []),
    ("finished-runs-free-their-slot", ["a1:a:0:SUCCESS", "a0:a:0:FAILED", "a3:a:0:STOPPED", "a4:a:0:TIMEOUT",
                                       "a2:a:1:QUEUED"], {"a": 1}, 100, ["a2"]),
    ("no-state-yet-waits", ["a1:a:0:", "a2:a:1:QUEUED"], {"a": 1}, 100, ["a1"]),
    ("default-limit-16", [f"r{i:02d}:a:{i}:QUEUED" for i in range(20)], {}, 100, [f"r{i:02d}" for i in range(16)]),
    ("zero-limit-admits-none", ["a1:a:0:QUEUED"], {"a": 0}, 100, []),
]


@pytest.mark.parametrize(("runs", "limits", "cluster", "expected"), [pytest.param(*t[1:], id=t[0]) for t in ADMISSION])
def test_admission(runs: list[str], limits: dict[str, int], cluster: int, expected: list[str]) -> None:
    slots = [slot(r) for r in runs]
    assert admit(slots, slots, limits, cluster) == expected
    assert admitted(slots, limits, cluster) == set(expected)


def test_candidates_and_active_may_be_separate_lists() -> None:
    active = [slot("a1:a:0:RUNNING"), slot("x:a:0:QUEUED")]  # a waiting run in `active` holds nothing
    candidates = [slot("a2:a:1:QUEUED"), slot("a1:a:0:RUNNING")]  # a running candidate is not re-admitted
    assert admit(candidates, active, {"a": 2}) == ["a2"]


def test_a_slot_frees_when_a_run_ends_and_the_oldest_waiting_starts() -> None:
    """QUEUED -> RUNNING when a slot frees, stepped with a fixed clock."""
    runs = {r.name: r for r in map(slot, ["a1:a:0:RUNNING", "a2:a:1:QUEUED", "a3:a:2:QUEUED"])}

    def step() -> list[str]:
        started = admit(runs.values(), runs.values(), {"a": 1})
        for name in started:
            runs[name] = RunSlot(name, "a", runs[name].created_at, "RUNNING")
        return started

    assert step() == []
    runs["a1"] = RunSlot("a1", "a", T0, "SUCCESS")
    assert step() == ["a2"] and step() == []
    runs["a2"] = RunSlot("a2", "a", T0, "FAILED")
    assert step() == ["a3"]


def test_quota_defaults_are_the_guides() -> None:
    q = Quotas()
    assert (q.workflows_per_cluster, q.versions_per_workflow, q.concurrent_runs_cluster, q.xcom_bytes_per_run) == (
        100, 50, 100, 204800)


def test_quotas_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="workflows_per_cluster"):
        Quotas(workflows_per_cluster=-1)
    with pytest.raises(ValueError, match="xcom_bytes_per_run"):
        Quotas(xcom_bytes_per_run="200k")  # type: ignore[arg-type]


CHECKS = [
    # (id, check, value, quotas, exceeded quota or None, words in the message)
    ("workflows-fit", check_workflow_count, 99, Quotas(), None, ""),
    ("workflows-full", check_workflow_count, 100, Quotas(), "workflows_per_cluster", "already has 100 workflows"),
    ("workflows-chart-limit", check_workflow_count, 3, Quotas(workflows_per_cluster=3), "workflows_per_cluster",
     "limit is 3"),
]


@pytest.mark.parametrize(("check", "value", "quotas", "quota", "words"), [pytest.param(*t[1:], id=t[0]) for t in CHECKS])
def test_checks(check, value, quotas: Quotas, quota: str | None, words: str) -> None:  # type: ignore[no-untyped-def]
    got = check(value, quotas)
    if quota is None:
        assert got is None
    else:
        assert isinstance(got, QuotaExceeded) and got.quota == quota
        assert got.limit == getattr(quotas, quota) and words in got.message and str(got) == got.message


def versions(n: int) -> list[tuple[str, datetime]]:
    return [(f"v{i}", T0 + timedelta(minutes=i)) for i in range(n)]


PRUNE = [
    # (id, existing, pinned, keep, latest, expected)
    ("under-limit", 5, set(), 5, None, []),
    ("oldest-first-skipping-pinned-and-latest", 5, {"v0"}, 3, "v4", ["v1", "v2"]),
    ("too-many-pinned-prunes-what-it-can", 5, {"v0", "v1", "v2", "v3"}, 2, "v4", []),
    ("one-over-the-guides-50", 51, set(), 50, "v50", ["v0"]),
]


@pytest.mark.parametrize(("n", "pinned", "keep", "latest", "expected"), [pytest.param(*t[1:], id=t[0]) for t in PRUNE])
def test_version_pruning(n: int, pinned: set[str], keep: int, latest: str | None, expected: list[str]) -> None:
    assert versions_to_prune(versions(n), pinned, keep, latest) == expected



def test_ties_in_creation_time_prune_by_id() -> None:
    same = [("vb", T0), ("va", T0), ("vc", T0 + timedelta(minutes=1))]
    assert versions_to_prune(same, set(), 1, latest="vc") == ["va", "vb"]
