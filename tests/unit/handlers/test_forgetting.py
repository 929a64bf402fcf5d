"""What the operator keeps in memory is bounded by what lives: a finalized or deleted run leaves
no followed body, timer, label entry or runs-by-state entry; a deleted workflow leaves no metric
series; kopf builds no diff base for the kinds without change handlers (runs and pods)."""

from __future__ import annotations

from typing import Any

import kopf
from kopf._cogs.structs import references
from kopf._core.intents import registries
from prometheus_client import REGISTRY

from harness import NS, Clock, chain, context, make_workflow, start
from fakekube import FakeKube

from updraft import metrics
from updraft.handlers import app
from updraft.handlers.runloop import RunLoop
from updraft.handlers.scheduleloop import ScheduleLoop
from updraft.model import names
from updraft.model.names import GROUP, VERSION
from updraft.model.workflow import Workflow


def _memo(ctx: Any) -> dict[str, Any]:
    return {"ctx": ctx, "runs": RunLoop(ctx, lambda *a: None, workers=1), "schedules": ScheduleLoop(ctx, workers=1)}


def _indexes(workflows: dict[Any, Any] | None = None) -> dict[str, Any]:
    return {"run_index": {}, "workflow_index": workflows or {}, "pod_index": {}}


async def _close(memo: dict[str, Any]) -> None:
    await memo["runs"].close()
    await memo["schedules"].close()


def _kept(memo: dict[str, Any], name: str) -> list[str]:
    ctx, loop = memo["ctx"], memo["runs"]
    key = (NS, name)
    return [what for what, kept in (
        ("followed body", key in ctx.watched._live), ("own write", key in ctx.watched._written),
        ("timer", key in loop.queue._timers), ("label", (NS, names.label_value(name)) in loop._by_label),
        ("waiting", key in ctx.waiting), ("runs by state", key in metrics.RUN_STATES.current)) if kept]


async def _pass(memo: dict[str, Any]) -> None:
    loop = memo["runs"]
    key = await loop.queue.get()
    await loop.run_pass(key)
    loop.queue.done(key)


async def test_a_finalized_run_and_a_deleted_run_leave_nothing_behind(kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    for run, last in (("w-done", "MODIFIED"), ("w-gone", "DELETED")):
        await start(kube, "w", run)
        ctx = context(kube, clock)
        memo = _memo(ctx)
        memo["runs"].start = lambda: None  # passes are run by hand below
        indexes = _indexes({(NS, "w"): [Workflow.from_body(await kube.get("Workflow", "w", NS))]})
        try:
            body = await kube.get("WorkflowRun", run, NS)
            await app.run_event(name=run, namespace=NS, memo=memo, body=kopf.Body(body), type="ADDED", **indexes)
            await _pass(memo)  # the real reconcile: its first pod, the status RUNNING, a timer
            assert kube.of("Pod") and set(_kept(memo, run)) >= {"followed body", "timer", "label", "runs by state"}

            body = await kube.get("WorkflowRun", run, NS)
            body["status"].update(runState="SUCCESS", finalized=True)
            body["metadata"]["resourceVersion"] = str(int(body["metadata"]["resourceVersion"]) + 1)
            await app.run_event(name=run, namespace=NS, memo=memo, body=kopf.Body(body), type=last, **indexes)
            assert _kept(memo, run) == [], f"{run}: kept after its {last} event"
        finally:
            await _close(memo)


async def test_a_deleted_workflow_leaves_no_metric_series_unless_its_name_lives_on(
        kube: FakeKube, clock: Clock) -> None:
    def series(workflow: str) -> int:
        return sum(1 for family in REGISTRY.collect() for s in family.samples if s.labels.get("workflow") == workflow)

    for workflow in ("gone-wf", "kept-wf", "twin-wf"):
        metrics.record_run_change(workflow, "ON_DEMAND", {"runState": "RUNNING", "startedOn": "2026-03-02T08:00:00Z"},
                                  {"runState": "SUCCESS", "startedOn": "2026-03-02T08:00:00Z",
                                   "completedOn": "2026-03-02T08:01:00Z",
                                   "taskInstances": [{"taskId": "t", "status": "SUCCESS", "attemptNumber": 1,
                                                      "logStatus": "SHIPPED", "startedAt": "2026-03-02T08:00:00Z",
                                                      "endedAt": "2026-03-02T08:01:00Z"}]})
        metrics.SCHEDULE_DELAY.labels(workflow).observe(0.3)
        assert series(workflow) > 40  # counters, and the buckets of three histograms
    memo = _memo(context(kube, clock))
    try:
        left = {(NS, "kept-wf"): [object()], ("other-namespace", "twin-wf"): [object()]}
        for workflow in ("gone-wf", "twin-wf"):
            await app.workflow_event(name=workflow, namespace=NS, memo=memo, type="DELETED", **_indexes(left))
    finally:
        await _close(memo)
    assert series("gone-wf") == 0
    assert series("kept-wf") > 40
    assert series("twin-wf") > 40, "a workflow of the same name in another namespace keeps the series"


def test_runs_and_pods_have_no_change_handlers_and_so_no_diff_base() -> None:
    registry = registries.get_default_registry()
    for group, plural, kind in ((GROUP, "workflowruns", "WorkflowRun"), ("", "pods", "Pod"), (GROUP, "workflows", "Workflow")):
        resource = references.Resource(group=group, version=VERSION if group else "v1", plural=plural, kind=kind,
                                       namespaced=True)
        assert registry._changing.has_handlers(resource=resource) == (kind not in app.NO_CHANGE_HANDLERS), kind

    storage = app.UnchangedKindsDiffBase(prefix="updraft.dev", unchanged=app.NO_CHANGE_HANDLERS)
    run = {"apiVersion": names.API_VERSION, "kind": "WorkflowRun", "metadata": {"name": "r", "labels": {"a": "b"}},
           "spec": {"workflowName": "w"}, "status": {"runState": "RUNNING"}}
    assert storage.build(body=kopf.Body(run)) == {}
    workflow = {**run, "kind": "Workflow", "spec": {"definition": "x"}}
    assert storage.build(body=kopf.Body(workflow)) == {"metadata": {"labels": {"a": "b"}}, "spec": {"definition": "x"}}
    unnamed = {k: v for k, v in workflow.items() if k != "kind"}
    assert storage.build(body=kopf.Body(unnamed))["spec"] == {"definition": "x"}, "no kind: diffed as kopf does"


async def test_kopfs_per_object_workers_let_an_objects_last_event_go_within_a_second() -> None:
    settings = kopf.OperatorSettings()
    await app.configure(settings=settings)
    assert settings.queueing.idle_timeout <= 1.0
    assert isinstance(settings.persistence.diffbase_storage, app.UnchangedKindsDiffBase)


async def test_the_workflow_index_keeps_no_copy_of_the_spec_in_annotations() -> None:
    definition = "w:\n  tasks:\n    t0: {operator: EmptyOperator}\n" + "# " + "x" * 10_000 + "\n"
    spec = {"roleArn": "arn:aws:iam::123456789012:role/r", "definition": definition}
    body = {"apiVersion": names.API_VERSION, "kind": "Workflow", "spec": spec, "metadata": {
        "name": "w", "namespace": NS, "uid": "u", "annotations": {
            "updraft.dev/last-handled-configuration": '{"spec": ' + repr(spec) + "}",
            "kubectl.kubernetes.io/last-applied-configuration": '{"spec": ' + repr(spec) + "}",
            names.ANNOTATION_API_NAME: "My Workflow", names.ANNOTATION_COMPILED: "x"}}}
    view = (await app.workflow_index(body=kopf.Body(body), name="w", namespace=NS))[(NS, "w")]
    assert set(view.annotations) == {names.ANNOTATION_API_NAME, names.ANNOTATION_COMPILED}
    assert view.api_name == "My Workflow" and view.spec["definition"] == definition
    assert "updraft.dev/last-handled-configuration" in body["metadata"]["annotations"], "kopf's body is untouched"
