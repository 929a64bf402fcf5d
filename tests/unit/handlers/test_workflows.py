"""Workflow reconciliation with the versions service: compiled once, stored compiled, never
re-judged; transient sources retried; bad time zones refused with a condition."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from harness import NS, Clock, context, workflow_body
from fakekube import FakeKube

import updraft.versions
from updraft.definition import from_dict
from updraft.handlers.workflows import SourceUnavailable, reconcile_workflow
from updraft.model import names

HELLO = textwrap.dedent("""
    hello:
      schedule: '30 2 * * *'
      max_active_runs: 20
      tasks:
        first: {operator: EmptyOperator}
        second: {operator: EmptyOperator, dependencies: [first]}
""")


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every definition text the versions service validates."""
    seen: list[str] = []
    real = updraft.versions.validate

    def counting(text: str, **kwargs: Any) -> Any:
        seen.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(updraft.versions, "validate", counting)
    return seen


async def reconcile(kube: FakeKube, clock: Clock, name: str, **settings: Any) -> dict[str, Any]:
    """One reconcile by a fresh operator process, its status written as kopf would; the status after."""
    body = await kube.get("Workflow", name, NS)
    status = await reconcile_workflow(context(kube, clock, **settings), body)
    return (await kube.patch_status("Workflow", name, NS, status))["status"]


async def test_a_version_holds_its_compiled_graph_and_its_configmap(kube: FakeKube, clock: Clock,
                                                                  validations: list[str]) -> None:
    await kube.create(workflow_body("hello", HELLO), NS)
    status = await reconcile(kube, clock, "hello")
    version = status["latestVersion"]
    assert status["conditions"][0]["status"] == "True" and len(validations) == 1
    stored = await kube.get("WorkflowVersion", names.version_object_name("hello", version), NS)
    graph = from_dict(stored["spec"]["graph"])
    assert list(graph.tasks) == ["first", "second"] and graph.max_active_runs == 20
    cm = await kube.get("ConfigMap", names.definition_configmap_name(stored["metadata"]["name"]), NS)
    assert cm["metadata"]["ownerReferences"][0]["uid"] == stored["metadata"]["uid"] and cm["immutable"] is True


async def test_a_restart_or_another_spec_change_compiles_nothing(kube: FakeKube, clock: Clock,
                                                                validations: list[str]) -> None:
    await kube.create(workflow_body("hello", HELLO), NS)
    first = await reconcile(kube, clock, "hello")
    await reconcile(kube, clock, "hello")  # a restarted operator resumes the workflow
    await kube.patch("Workflow", "hello", NS, {"spec": {"triggerMode": "manual_only"}})
    again = await reconcile(kube, clock, "hello")
    assert len(validations) == 1 and again["latestVersion"] == first["latestVersion"]
    assert kube.calls[("create", "WorkflowVersion")] == 1
    await kube.patch("Workflow", "hello", NS, {"spec": {"definition": HELLO.replace("30 2", "45 3")}})
    changed = await reconcile(kube, clock, "hello")
    assert len(validations) == 2 and changed["latestVersion"] != first["latestVersion"]


async def test_a_lowered_limit_does_not_judge_stored_versions_again(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("hello", HELLO), NS)
    version = (await reconcile(kube, clock, "hello"))["latestVersion"]
    ctx = context(kube, clock, max_active_runs_limit=10)  # a chart upgrade lowered the limit
    loaded = await ctx.versions.load(NS, "hello", version)
    assert loaded.graph.max_active_runs == 20
    # ... while a new definition is judged by today's limit
    await kube.patch("Workflow", "hello", NS, {"spec": {"definition": HELLO.replace("30 2", "45 3")}})
    status = await reconcile(kube, clock, "hello", max_active_runs_limit=10)
    assert status["latestVersion"] == version and status["conditions"][0]["reason"] == "InvalidDefinition"
    assert "max_active_runs" in status["conditions"][0]["message"]


async def test_a_configmap_not_there_yet_is_retried_not_final(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("late", definitionConfigMapRef={"name": "defs", "key": "late.yaml"}), NS)
    body = await kube.get("Workflow", "late", NS)
    with pytest.raises(SourceUnavailable) as unavailable:
        await reconcile_workflow(context(kube, clock), body)
    condition = unavailable.value.status["conditions"][0]
    assert (condition["reason"], condition["status"]) == ("DefinitionUnavailable", "False")
    assert "defs" in condition["message"] and unavailable.value.delay > 0
    await kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "defs"},
                       "data": {"late.yaml": HELLO}}, NS)
    status = await reconcile(kube, clock, "late")
    assert status["conditions"][0]["status"] == "True" and status["latestVersion"]


async def test_a_time_zone_that_does_not_exist_is_a_condition_not_silence(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("tz", HELLO, timezone="Mars/Olympus"), NS)
    status = await reconcile(kube, clock, "tz")
    condition = status["conditions"][0]
    assert (condition["reason"], condition["status"]) == ("InvalidSchedule", "False")
    assert "spec.timezone" in condition["message"] and "Mars/Olympus" in condition["message"]
    assert "latestVersion" not in status and not kube.of("WorkflowVersion")


async def test_the_schedule_time_zone_follows_airflows_precedence(kube: FakeKube, clock: Clock) -> None:
    zoned = HELLO.replace("  max_active_runs: 20\n", "  max_active_runs: 20\n  timezone: Asia/Tokyo\n")
    await kube.create(workflow_body("zoned", zoned), NS)
    await kube.create(workflow_body("override", zoned, timezone="Europe/Paris"), NS)
    for name, zone in (("zoned", "Asia/Tokyo"), ("override", "Europe/Paris")):
        version = (await reconcile(kube, clock, name))["latestVersion"]
        stored = await kube.get("WorkflowVersion", names.version_object_name(name, version), NS)
        assert stored["spec"]["timezone"] == zone


async def test_a_version_a_live_run_uses_is_kept_when_older_versions_are_pruned(kube: FakeKube, clock: Clock) -> None:
    ctx = context(kube, clock, max_versions=2)

    async def define(tasks: int) -> str:
        lines = "".join(f"    t{i}: {{operator: EmptyOperator}}\n" for i in range(tasks))
        await kube.patch("Workflow", "w", NS, {"spec": {"definition": f"w:\n  schedule: None\n  tasks:\n{lines}"}})
        clock.advance(seconds=1)
        status = await reconcile_workflow(ctx, await kube.get("Workflow", "w", NS))
        await kube.patch_status("Workflow", "w", NS, status)
        return str(status["latestVersion"])

    await kube.create(workflow_body("w", "w:\n  schedule: None\n  tasks:\n    t0: {operator: EmptyOperator}\n"), NS)
    first = str((await reconcile_workflow(ctx, await kube.get("Workflow", "w", NS)))["latestVersion"])
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "live"},
                       "spec": {"workflowName": "w"}}, NS)
    await kube.patch_status("WorkflowRun", "live", NS, {"runState": "RUNNING", "workflowVersion": first})
    for tasks in (2, 3, 4):
        latest = await define(tasks)
    kept = {v["metadata"]["name"] for v in kube.of("WorkflowVersion")}
    assert kept == {names.version_object_name("w", first), names.version_object_name("w", latest)}
