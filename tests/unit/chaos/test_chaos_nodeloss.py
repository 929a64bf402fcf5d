"""A lost node: which task pods it took with it, and what each looked like when it was deleted,
from the watch events of the pods bound to it."""

from typing import Any

from nodeloss import LostPods, fate, unfinished, would_end


def pod(name: str, phase: str = "Running", task: str = "ok_a", deleting: bool = False,
        disruption: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"updraft.dev/run": f"run-of-{name}", "updraft.dev/task": task}}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-03T14:00:00Z"
    conditions = [{"type": "Ready", "status": "True"}]
    if disruption:
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": disruption})
    return {"metadata": meta, "status": {"phase": phase, "conditions": conditions}}


def test_only_unfinished_pods_not_being_deleted_are_lost_with_their_node() -> None:
    assert unfinished(pod("a")) and unfinished(pod("b", "Pending")) and unfinished({"metadata": {"name": "c"}})
    assert not unfinished(pod("d", "Succeeded")) and not unfinished(pod("e", "Failed"))
    assert not unfinished(pod("f", deleting=True))


def test_the_fate_names_the_phase_and_the_pod_gcs_condition() -> None:
    assert fate(pod("a", "Failed", disruption="DeletionByPodGC")) == "Failed with DisruptionTarget DeletionByPodGC"
    assert fate(pod("b", "Succeeded")) == "Succeeded"
    assert fate({"metadata": {"name": "c"}}) == "Pending"


def test_pods_deleted_by_the_pod_gc_are_lost_attempts_and_those_that_ended_first_are_not() -> None:
    lost = LostPods("kwok-node-1")
    for p in (pod("gc-1"), pod("gc-2", "Pending"), pod("done", task="ok_b"), pod("ended", "Succeeded")):
        lost.see("LISTED", p)
    assert lost.pods == ["done", "gc-1", "gc-2"]  # a pod already ended is not the node's to lose
    assert lost.tasks["done"] == ("run-of-done", "ok_b")
    lost.see("MODIFIED", pod("done", "Succeeded"))  # kwok finished it before the pod GC came
    lost.see("MODIFIED", pod("gc-1", "Failed", disruption="DeletionByPodGC"))
    assert not lost.all_gone
    lost.see("DELETED", pod("gc-1", "Failed", disruption="DeletionByPodGC"))
    lost.see("DELETED", pod("done", "Succeeded"))
    lost.see("DELETED", pod("ended", "Succeeded"))  # never one of the node's lost pods
    assert not lost.all_gone and lost.lost_attempts == ["gc-1", "gc-2"]
    lost.see("DELETED", pod("gc-2", "Failed", disruption="DeletionByPodGC"))
    assert lost.all_gone and lost.lost_attempts == ["gc-1", "gc-2"]
    lost.gone_after_s = 52.3
    assert lost.describe() == ("3 pods on kwok-node-1 deleted after 52.3s: "
                               "2 Failed with DisruptionTarget DeletionByPodGC, 1 Succeeded")


def test_a_pod_bound_just_before_the_node_went_counts_and_a_pod_missed_by_a_broken_watch_is_gone_unseen() -> None:
    lost = LostPods("kwok-node-1")
    lost.see("LISTED", pod("a"))
    lost.see("ADDED", pod("late", "Pending"))
    assert lost.pods == ["a", "late"]
    lost.listed({"late"})  # a fresh listing after the watch broke: "a" went while it was down
    assert lost.fates == {"a": "gone unseen"} and lost.lost_attempts == ["a", "late"]
    assert lost.describe() == "2 pods on kwok-node-1 deleted: 1 gone unseen, 1 still there"


def test_pods_of_other_things_than_task_attempts_are_ignored() -> None:
    lost = LostPods("kwok-node-1")
    lost.see("LISTED", {"metadata": {"name": "daemon", "labels": {}}, "status": {"phase": "Running"}})
    assert lost.pods == [] and lost.all_gone
    assert lost.describe() == "0 pods on kwok-node-1 deleted: none"


def test_the_node_goes_when_attempts_that_would_end_by_themselves_run_on_it() -> None:
    assert would_end([pod("a"), pod("b", "Pending"), pod("c", "Succeeded"), pod("d", deleting=True)]) == 2
    # a hanging task's pod ends at its timeout whatever the node does: it does not count
    assert would_end([pod("h", task="chaos_hang"), pod("s", task="chaos_slow")]) == 1
    assert would_end([{"metadata": {"name": "daemon"}, "status": {"phase": "Running"}}]) == 0
