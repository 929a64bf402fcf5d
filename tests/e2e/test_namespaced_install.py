"""End to end: a second, namespaced install of the chart (rbac.scope=namespaced), as a team
without cluster-wide rights would run it. With the cluster-wide operator paused, the team's
operator runs a workflow in its namespace with only its Roles, and leaves other namespaces alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
TOP = Path(__file__).parents[2]
HELLO = TOP / "examples" / "01-hello"


@pytest.fixture
async def team_release(namespace: str, kubectl: Callable[..., str], helm: Callable[..., str]) -> AsyncIterator[str]:
    """Release `team` in namespace `team-system`, watching only the test's namespace; the
    cluster-wide operator is paused meanwhile."""
    kubectl("-n", "updraft-system", "scale", "deploy/updraft-operator", "--replicas=0")
    try:
        helm("upgrade", "--install", "team", str(TOP / "charts/updraft"), "-n", "team-system",
              "--create-namespace", "-f", str(TOP / "hack/cluster/local-values.yaml"),
              "--set", "rbac.scope=namespaced", "--set", f"rbac.watchNamespace={namespace}",
              "--set", "crds.install=false", "--set", "api.enabled=false",
              "--set", "operator.leaderElection.enabled=false", "--wait", "--timeout", "3m")
        yield namespace
    finally:
        helm("uninstall", "team", "-n", "team-system", "--wait")
        kubectl("delete", "namespace", "team-system", "--wait=false")
        kubectl("-n", "updraft-system", "scale", "deploy/updraft-operator", "--replicas=1")
        kubectl("-n", "updraft-system", "rollout", "status", "deploy/updraft-operator", "--timeout=120s")


async def _wait(kube: Any, kind: str, name: str, namespace: str, done: Callable[[dict], bool], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    obj: dict = {}
    while time.monotonic() < deadline:
        obj = await kube.get(kind, name, namespace)
        if done(obj.get("status") or {}):
            return obj
        await asyncio.sleep(1)
    return obj


async def test_namespaced_operator_runs_its_namespace_only(team_release: str, api: object) -> None:
    from kubernetes_asyncio import client

    from updraft.k8s.resources import Kube

    kube = Kube(api)
    other = f"{team_release}-other"
    await client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        for ns in (team_release, other):
            await kube.create(yaml.safe_load((HELLO / "workflow.yaml").read_text()), ns)
        await kube.create(yaml.safe_load((HELLO / "run.yaml").read_text()), team_release)
        run = await _wait(kube, "WorkflowRun", "hello-1", team_release,
                          lambda s: s.get("runState") in ("SUCCESS", "FAILED"), 240)
        assert (run.get("status") or {}).get("runState") == "SUCCESS", run.get("status")
        untouched = await kube.get("Workflow", "hello", other)
        assert not (untouched.get("status") or {}).get("latestVersion"), "a namespaced operator reached outside"
    finally:
        await client.CoreV1Api(api).delete_namespace(other)
