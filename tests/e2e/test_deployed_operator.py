"""End to end against the operator deployed in the cluster (make deploy): its image, its RBAC,
its in-cluster credentials. It turns a Workflow into a version and the workflow's identity and
isolation objects, and refuses an invalid definition with every error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def _wait(check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.5)
    raise AssertionError("timed out")


async def test_deployed_operator_reconciles_workflows(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    deploy = await kube._call("GET", "/apis/apps/v1/namespaces/updraft-system/deployments/updraft-operator")
    assert deploy["status"].get("availableReplicas") == 1
    role = "arn:aws:iam::123456789012:role/e2e"
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "e2e"},
                       "spec": {"roleArn": role, "triggerMode": "manual_only",
                                "definition": "e2e:\n  tasks:\n    t: {operator: S3ListOperator, bucket: b}\n"}},
                      namespace)
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "bad"},
                       "spec": {"roleArn": role, "definition": "bad:\n  tasks:\n    t: {operator: BashOperator}\n"}},
                      namespace)

    async def ready() -> dict[str, Any] | None:
        wf = await kube.get("Workflow", "e2e", namespace)
        return wf if (wf.get("status") or {}).get("latestVersion") else None

    wf = await _wait(ready)
    assert wf["status"]["arn"].startswith("arn:aws:airflow-serverless:us-east-1:")
    version = await kube.get("WorkflowVersion", f"e2e-{wf['status']['latestVersion']}", namespace)
    assert version["spec"]["taskCount"] == 1
    sa = await kube.get("ServiceAccount", "updraft-wf-e2e", namespace)
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role

    async def refused() -> str | None:
        conds = ((await kube.get("Workflow", "bad", namespace)).get("status") or {}).get("conditions") or []
        return next((c["message"] for c in conds if c["type"] == "DefinitionValid" and c["status"] == "False"), None)

    assert "operator-not-supported" in await _wait(refused)
    for name in ("e2e", "bad"):
        await kube.delete("Workflow", name, namespace)
    await _wait(lambda: _none_left(kube, namespace))


async def _none_left(kube: Any, namespace: str) -> bool:
    return not await kube.list("Workflow", namespace)
