"""The run index keeps each run under ALL_RUNS and under its (namespace, workflow): a workflow's
schedule pass and reconcile read that key instead of scanning every run (with 1,000 workflows
firing each minute, a scan per pass grew as workflows times runs). A run counts by its spec, so a
run made with kubectl without the workflow label is still its workflow's."""

from __future__ import annotations

from typing import Any

from harness import Clock, context
from fakekube import FakeKube

from updraft.handlers import app
from updraft.handlers.context import ALL_RUNS


def _run(name: str, workflow: str, namespace: str, state: str | None = None, labelled: bool = True) -> dict[str, Any]:
    labels = {"updraft.dev/workflow": workflow} if labelled else {}
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels},
            "spec": {"workflowName": workflow, "runType": "ON_DEMAND"},
            "status": {"runState": state} if state else {}}


async def _index(bodies: list[dict[str, Any]]) -> dict[Any, list[Any]]:
    index: dict[Any, list[Any]] = {}
    for body in bodies:  # as kopf files a handler's dict: one value under each key
        for key, value in (await app.run_index(body=body)).items():  # type: ignore[arg-type]
            index.setdefault(key, []).append(value)
    return index


async def test_a_workflows_runs_come_from_its_own_key() -> None:
    bodies = [_run("a-1", "a", "ns", "SUCCESS"), _run("a-2", "a", "ns", "RUNNING"),
              _run("a-kubectl", "a", "ns", labelled=False), _run("b-1", "b", "ns", "RUNNING"),
              _run("a-elsewhere", "a", "other", "RUNNING")]
    ctx = context(FakeKube(Clock()), Clock())
    index = await _index(bodies)
    ctx.runs.attach(index)
    assert len(index[ALL_RUNS]) == 5
    assert sorted(r.name for r in await ctx.runs.of_workflow("ns", "a")) == ["a-1", "a-2", "a-kubectl"]
    assert [r.name for r in await ctx.runs.of_workflow("other", "a")] == ["a-elsewhere"]
    assert await ctx.runs.of_workflow("ns", "c") == []


async def test_before_the_index_a_workflows_runs_are_listed() -> None:
    clock = Clock()
    kube = FakeKube(clock)
    for body in (_run("a-1", "a", "ns"), _run("b-1", "b", "ns")):
        await kube.create(body, "ns")
    assert [r.name for r in await context(kube, clock).runs.of_workflow("ns", "a")] == ["a-1"]
