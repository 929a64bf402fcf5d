"""The operator on the real cluster: `kubectl apply` of a Workflow and a WorkflowRun runs the DAG
as one pod per task attempt to the right end state, and an operator killed mid-run resumes
without starting any attempt twice."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from operator_harness import OperatorProcess, scrape, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]
ROLE = "arn:aws:iam::123456789012:role/updraft-test"


@pytest.fixture
def kube(api: object) -> Any:
    from updraft.k8s.resources import Kube

    return Kube(api)


async def apply_workflow(kube: Any, namespace: str, name: str, definition: str, **spec: Any) -> None:
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
                       "spec": {"roleArn": ROLE, "triggerMode": "manual_only",
                                "definition": textwrap.dedent(definition), **spec}}, namespace)


async def start_run(kube: Any, namespace: str, workflow: str, name: str) -> None:
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": name},
                       "spec": {"workflowName": workflow}}, namespace)


async def run_state(kube: Any, namespace: str, name: str, states: set[str], timeout: float = 150) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        run = await kube.get("WorkflowRun", name, namespace)
        return run if (run.get("status") or {}).get("runState") in states else None

    return await wait_for(check, timeout, what=f"run {name} in {states}")


def tasks(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["taskId"]: t for t in run["status"]["taskInstances"]}


async def test_fan_out_fan_in_runs_to_success(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "fan", """
        fan:
          tasks:
            ok_start: {operator: EmptyOperator}
            ok_a: {operator: EmptyOperator, dependencies: [ok_start]}
            ok_b: {operator: EmptyOperator, dependencies: [ok_start]}
            ok_c: {operator: EmptyOperator, dependencies: [ok_start]}
            ok_join: {operator: EmptyOperator, dependencies: [ok_a, ok_b, ok_c]}
    """)
    await start_run(kube, namespace, "fan", "fan-1")
    run = await run_state(kube, namespace, "fan-1", {"SUCCESS", "FAILED"})
    assert run["status"]["runState"] == "SUCCESS"
    t = tasks(run)
    assert {k: v["status"] for k, v in t.items()} == dict.fromkeys(["ok_start", "ok_a", "ok_b", "ok_c", "ok_join"], "SUCCESS")
    assert t["ok_join"]["startedAt"] >= max(t[k]["endedAt"] for k in ("ok_a", "ok_b", "ok_c"))
    pods = await kube.list("Pod", namespace, {"updraft.dev/run": "fan-1"})
    assert len(pods) == 5
    workflow = await kube.get("Workflow", "fan", namespace)
    assert workflow["status"]["workflowStatus"] == "READY" and len(workflow["status"]["latestVersion"]) == 32
    assert workflow["status"]["serviceAccount"] == "updraft-wf-fan"
    # the version's definition, mounted by every task pod from one immutable ConfigMap
    definition = await kube.get("ConfigMap", f"fan-{workflow['status']['latestVersion']}-definition", namespace)
    assert definition["immutable"] is True and "ok_join" in definition["data"]["definition.json"]
    assert all({"name": "definition", "configMap": {"name": definition["metadata"]["name"], "defaultMode": 0o444}}
               in p["spec"]["volumes"] for p in pods)
    series = scrape(operator.metrics_port)
    assert series['updraft_runs_finished_total{run_type="ON_DEMAND",state="SUCCESS",workflow="fan"}'] == 1
    assert series['updraft_task_attempts_total{state="SUCCESS",workflow="fan"}'] == 5
    assert series["updraft_pod_start_latency_seconds_count"] >= 1
    assert series['updraft_runs{state="RUNNING"}'] == 0
    assert series['updraft_build_info{version="0.1.0"}'] == 1
    sa = await kube.get("ServiceAccount", "updraft-wf-fan", namespace)
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE
    await kube.get("NetworkPolicy", "updraft-wf-fan", namespace)


async def test_failing_task_retries_then_fails_the_run(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "flaky", """
        flaky:
          tasks:
            fail_load: {operator: EmptyOperator, retries: 2, retry_delay: 1}
            ok_report: {operator: EmptyOperator, dependencies: [fail_load]}
    """)
    await start_run(kube, namespace, "flaky", "flaky-1")
    run = await run_state(kube, namespace, "flaky-1", {"SUCCESS", "FAILED"})
    assert run["status"]["runState"] == "FAILED"
    assert run["status"]["errorMessage"] == "Workflow execution failed"
    t = tasks(run)
    assert (t["fail_load"]["status"], t["fail_load"]["attemptNumber"]) == ("FAILED", 3)
    assert t["ok_report"]["status"] == "UPSTREAM_FAILED"
    pods = await kube.list("Pod", namespace, {"updraft.dev/run": "flaky-1"})
    # the pods of the superseded attempts are deleted once their outcome is recorded; the last
    # attempt's pod stays (for its log) until the run's cleanup delay
    assert sorted(p["metadata"]["labels"]["updraft.dev/attempt"] for p in pods) == ["3"]


async def test_timeout(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "slow", """
        slow:
          tasks:
            slow_task: {operator: EmptyOperator, execution_timeout: 3}
    """)
    await start_run(kube, namespace, "slow", "slow-1")
    run = await run_state(kube, namespace, "slow-1", {"SUCCESS", "FAILED"}, timeout=120)
    assert tasks(run)["slow_task"]["status"] == "TIMEOUT"
    assert run["status"]["runState"] == "FAILED"


async def test_stop(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "long", """
        long:
          tasks:
            slow_a: {operator: EmptyOperator}
            ok_b: {operator: EmptyOperator, dependencies: [slow_a]}
    """)
    await start_run(kube, namespace, "long", "long-1")
    await wait_for(lambda: _task_status(kube, namespace, "long-1", "slow_a", "RUNNING"), what="slow_a RUNNING")
    await kube.patch("WorkflowRun", "long-1", namespace, {"spec": {"stop": True}})
    run = await run_state(kube, namespace, "long-1", {"STOPPED"}, timeout=90)
    assert {k: v["status"] for k, v in tasks(run).items()} == {"slow_a": "CANCELLED", "ok_b": "CANCELLED"}
    alive = [p for p in await kube.list("Pod", namespace, {"updraft.dev/run": "long-1"})
             if p["status"].get("phase") in ("Pending", "Running") and not p["metadata"].get("deletionTimestamp")]
    assert alive == []


async def test_operator_restart_mid_run_duplicates_nothing(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "chain", """
        chain:
          tasks:
            nap_a: {operator: EmptyOperator}
            nap_b: {operator: EmptyOperator, dependencies: [nap_a]}
            ok_c: {operator: EmptyOperator, dependencies: [nap_b]}
    """)
    await start_run(kube, namespace, "chain", "chain-1")
    await wait_for(lambda: _task_status(kube, namespace, "chain-1", "nap_a", "RUNNING"), what="nap_a RUNNING")
    operator.kill()
    operator.start()
    run = await run_state(kube, namespace, "chain-1", {"SUCCESS", "FAILED"})
    assert run["status"]["runState"] == "SUCCESS"
    assert {v["attemptNumber"] for v in tasks(run).values()} == {1}
    pods = await kube.list("Pod", namespace, {"updraft.dev/run": "chain-1"})
    from updraft.model.names import pod_name

    assert sorted(p["metadata"]["name"] for p in pods) == sorted(pod_name("chain-1", t, 1) for t in ("nap_a", "nap_b", "ok_c"))


async def _task_status(kube: Any, namespace: str, run: str, task: str, status: str) -> bool:
    obj = await kube.get("WorkflowRun", run, namespace)
    return any(t["taskId"] == task and t["status"] == status for t in (obj.get("status") or {}).get("taskInstances", []))


async def test_invalid_definition_keeps_last_good_version_and_fails_new_runs(
        operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "broken", """
        broken:
          tasks:
            t: {operator: PythonOperator, retries: 9}
    """)

    async def invalid() -> dict[str, Any] | None:
        wf = await kube.get("Workflow", "broken", namespace)
        conds = (wf.get("status") or {}).get("conditions") or []
        return wf if any(c["type"] == "DefinitionValid" and c["status"] == "False" for c in conds) else None

    wf = await wait_for(invalid, what="DefinitionValid=False")
    message = wf["status"]["conditions"][0]["message"]
    assert "broken.tasks.t.operator" in message and "broken.tasks.t.retries" in message  # every error, with its path
    assert "latestVersion" not in wf["status"]
    await start_run(kube, namespace, "broken", "broken-1")
    run = await run_state(kube, namespace, "broken-1", {"FAILED"}, timeout=60)
    assert "broken.tasks.t.operator" in run["status"]["errorMessage"]


async def test_configmap_definition_and_new_versions(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    defn = "cm:\n  tasks:\n    ok_one: {operator: EmptyOperator}\n"
    await kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "defs"},
                       "data": {"cm.yaml": defn}}, namespace)
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "cm"},
                       "spec": {"roleArn": ROLE, "definitionConfigMapRef": {"name": "defs", "key": "cm.yaml"}}},
                      namespace)

    async def version() -> str | None:
        return ((await kube.get("Workflow", "cm", namespace)).get("status") or {}).get("latestVersion")

    first = await wait_for(version, what="first version")
    # a new definition (inline now) makes a new immutable version; the old one stays listable
    await kube.patch("Workflow", "cm", namespace, {"spec": {"definitionConfigMapRef": None,
                                                          "definition": defn.replace("ok_one", "ok_two")}})
    second = await wait_for(lambda: _changed(kube, namespace, first), what="second version")
    versions = {v["spec"]["versionId"] for v in await kube.list("WorkflowVersion", namespace)}
    assert {first, second} <= versions


async def _changed(kube: Any, namespace: str, first: str) -> str | None:
    v = ((await kube.get("Workflow", "cm", namespace)).get("status") or {}).get("latestVersion")
    return v if v and v != first else None


async def test_max_active_runs_queues_then_starts_in_order(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "one", """
        one:
          max_active_runs: 1
          tasks:
            nap_t: {operator: EmptyOperator}
    """)
    await start_run(kube, namespace, "one", "one-1")
    await run_state(kube, namespace, "one-1", {"RUNNING"})
    await start_run(kube, namespace, "one", "one-2")
    second = await run_state(kube, namespace, "one-2", {"QUEUED"})
    assert second["status"]["runState"] == "QUEUED"
    await run_state(kube, namespace, "one-1", {"SUCCESS"})
    done = await run_state(kube, namespace, "one-2", {"SUCCESS"})
    first = await kube.get("WorkflowRun", "one-1", namespace)
    assert done["status"]["startedOn"] >= first["status"]["completedOn"]


async def test_deleting_a_workflow_stops_its_runs_then_removes_everything(
        operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "gone", """
        gone:
          tasks:
            slow_t: {operator: EmptyOperator}
    """)
    await start_run(kube, namespace, "gone", "gone-1")
    await wait_for(lambda: _task_status(kube, namespace, "gone-1", "slow_t", "RUNNING"), what="slow_t RUNNING")
    await kube.delete("Workflow", "gone", namespace)

    async def deleting() -> bool:
        wf = await kube.get_or_none("Workflow", "gone", namespace)
        return wf is None or (wf.get("status") or {}).get("workflowStatus") == "DELETING"

    await wait_for(deleting, what="DELETING")

    async def all_gone() -> bool:
        return (await kube.get_or_none("Workflow", "gone", namespace) is None
                and not await kube.list("WorkflowRun", namespace)
                and not await kube.list("WorkflowVersion", namespace)
                and await kube.get_or_none("ServiceAccount", "updraft-wf-gone", namespace) is None)

    await wait_for(all_gone, timeout=120, what="workflow, runs, versions and identity removed")


async def test_disabled_workflow_refuses_new_runs(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "off", """
        paused:
          tasks:
            ok_t: {operator: EmptyOperator}
    """, triggerMode="disabled")
    await start_run(kube, namespace, "off", "off-1")
    run = await run_state(kube, namespace, "off-1", {"FAILED", "SUCCESS"}, timeout=60)
    assert run["status"]["runState"] == "FAILED"
    assert "disabled" in run["status"]["errorMessage"]
    assert await kube.list("Pod", namespace, {"updraft.dev/run": "off-1"}) == []


async def test_bad_network_spec_is_refused_naming_the_field(operator: OperatorProcess, kube: Any, namespace: str) -> None:
    await apply_workflow(kube, namespace, "net", """
        net:
          tasks:
            ok_t: {operator: EmptyOperator}
    """, network={"egress": [{"cidr": "not-a-cidr", "ports": [{"port": 5432}]}]})

    async def refused() -> str | None:
        conds = ((await kube.get("Workflow", "net", namespace)).get("status") or {}).get("conditions") or []
        return next((c["message"] for c in conds if c.get("reason") == "InvalidNetwork"), None)

    message = await wait_for(refused, what="InvalidNetwork condition")
    assert "spec.network.egress[0].cidr" in message
    assert await kube.list("WorkflowVersion", namespace) == []
