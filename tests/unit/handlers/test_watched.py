"""The run loop's reads fed by the watches (`Context.watched`): the run from kopf's live body or the
operator's own newer write, the workflow and the pods from kopf's indexes (plain dicts of lists
here, the shape kopf hands), no GET or LIST once attached; the echo of its own write is told apart;
and the runs to wake when a slot frees (`plan.admission.admitted_now`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from harness import NS, T0, Clock, context
from fakekube import FakeKube

from updraft.engine import observe
from updraft.handlers.context import newest, slim_run
from updraft.model.times import format_ts
from updraft.model.workflow import Workflow
from updraft.plan.admission import admitted_now, slot_view


def run(name: str, rv: str, state: str | None = None, **status: Any) -> dict[str, Any]:
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
            "metadata": {"name": name, "namespace": NS, "resourceVersion": rv, "uid": f"uid-{name}"},
            "spec": {"workflowName": "wf"}, "status": {**({"runState": state} if state else {}), **status}}


def test_the_fresher_of_the_watch_and_the_own_write_wins():
    assert newest(run("r", "10"), run("r", "12"))["metadata"]["resourceVersion"] == "12"
    assert newest(run("r", "13"), run("r", "12"))["metadata"]["resourceVersion"] == "13"
    assert newest(run("r", "13"), None)["metadata"]["resourceVersion"] == "13"
    assert newest(run("r", "x"), run("r", "12"))["metadata"]["resourceVersion"] == "x", "opaque: the watch wins"


async def test_once_attached_a_pass_reads_nothing_from_the_api(kube: FakeKube, clock: Clock):
    ctx = context(kube, clock)
    live = run("r", "10", "RUNNING")
    pod = {"metadata": {"name": "r-t-1", "namespace": NS, "labels": {"updraft.dev/run": "r"}},
           "status": {"phase": "Running"}}
    wf = Workflow.from_body({"metadata": {"name": "wf", "namespace": NS, "uid": "u"}, "spec": {}})
    ctx.watched.attach({(NS, "wf"): [wf]}, {(NS, "r"): [observe(pod)]})
    ctx.watched.follow(NS, "r", live)

    assert (await ctx.watched.run(NS, "r")) == slim_run(live)
    assert await ctx.watched.workflow(NS, "wf") == wf
    assert await ctx.watched.workflow(NS, "other") is None
    assert [p.name for p in await ctx.watched.pods(NS, "r")] == ["r-t-1"]
    assert await ctx.watched.pods(NS, "nope") == []
    assert not kube.calls, f"no API call once the watches feed the reads: {kube.calls}"

    written = run("r", "11", "SUCCESS")
    ctx.watched.written("WorkflowRun", written)
    assert (await ctx.watched.run(NS, "r")) == slim_run(written), "its own write is newer than the watch for a moment"
    assert ctx.watched.is_own_write(NS, "r", run("r", "11", "SUCCESS"))
    assert not ctx.watched.is_own_write(NS, "r", run("r", "12", "SUCCESS"))
    ctx.watched.unfollow(NS, "r")
    assert not ctx.watched.is_own_write(NS, "r", run("r", "11", "SUCCESS"))


async def test_a_followed_run_is_kept_slim_and_once_whichever_copy_is_newer(kube: FakeKube, clock: Clock):
    ctx = context(kube, clock)
    heavy = run("r", "10", "RUNNING")
    heavy["metadata"]["managedFields"] = [{"manager": "updraft-operator", "fieldsV1": {"f:status": {}}}]
    heavy["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}
    heavy["metadata"]["ownerReferences"] = [{"kind": "Workflow", "name": "wf", "uid": "u"}]
    ctx.watched.follow(NS, "r", heavy)
    kept = await ctx.watched.run(NS, "r")
    assert kept is not None and set(kept["metadata"]) == {"name", "namespace", "resourceVersion", "uid", "ownerReferences"}
    assert kept["status"] == {"runState": "RUNNING"} and kept["spec"] == {"workflowName": "wf"}

    ctx.watched.written("WorkflowRun", run("r", "12", "SUCCESS"))
    ctx.watched.follow(NS, "r", run("r", "11", "RUNNING"))  # a watch event older than the write
    kept = await ctx.watched.run(NS, "r")
    assert kept is not None and kept["metadata"]["resourceVersion"] == "12"
    assert ctx.watched.is_own_write(NS, "r", run("r", "12", "SUCCESS"))
    ctx.watched.follow(NS, "r", run("r", "13", "SUCCESS"))
    kept = await ctx.watched.run(NS, "r")
    assert kept is not None and kept["metadata"]["resourceVersion"] == "13"
    assert len(ctx.watched._live) == 1 and len(ctx.watched._written) == 1, "one body per followed run"
    ctx.watched.unfollow(NS, "r")
    assert not ctx.watched._live and not ctx.watched._written


async def test_before_attach_it_reads_from_the_api(kube: FakeKube, clock: Clock):
    ctx = context(kube, clock)
    kube.put(run("r", "1", "RUNNING"), NS)
    assert (await ctx.watched.run(NS, "r"))["status"]["runState"] == "RUNNING"
    assert await ctx.watched.run(NS, "gone") is None
    assert await ctx.watched.workflow(NS, "wf") is None
    ctx.watched.written("WorkflowRun", run("r", "2"))  # no loop follows it: not kept
    assert not ctx.watched.is_own_write(NS, "r", run("r", "2"))


def test_a_freed_slot_wakes_the_oldest_waiting_runs_that_fit():
    def slot(name: str, age_s: int, state: str | None, workflow: str = "wf", limit: int | None = None) -> Any:
        body = run(name, "1", state, **({"maxActiveRuns": limit} if limit else {}))
        body["metadata"]["creationTimestamp"] = format_ts(T0 + timedelta(seconds=age_s))
        body["spec"]["workflowName"] = workflow
        return slot_view(body)

    runs = [slot("a", 0, "RUNNING", limit=2), slot("b", 1, "SUCCESS"), slot("c", 2, "QUEUED"),
            slot("d", 3, "QUEUED"), slot("e", 4, None, workflow="other")]
    assert admitted_now(runs, cluster_limit=3) == {(NS, "c"), (NS, "e")}
    assert admitted_now(runs, cluster_limit=1) == set()
