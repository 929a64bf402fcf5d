"""End to end: the chart's operator with two replicas. One holds the leader Lease and says so in
its metrics; deleting it hands the Lease to another replica at once (the stopping leader releases
it); a standby stops promptly when deleted; and the new leader runs workflows."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
SYSTEM = "updraft-system"
SELECTOR = "app.kubernetes.io/component=operator,app.kubernetes.io/instance=updraft"
DEFINITION = """
ha:
  schedule: None
  tasks:
    only: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""


def _leader_gauge(pod_ip: str) -> float:
    with urllib.request.urlopen(f"http://{pod_ip}:8080/metrics", timeout=5) as resp:  # noqa: S310
        for line in resp.read().decode().splitlines():
            if line.startswith("updraft_operator_leader "):
                return float(line.split()[1])
    raise AssertionError(f"no updraft_operator_leader on {pod_ip}")


def _pods(kubectl: Callable[..., str]) -> dict[str, str]:
    """Ready operator pods: name -> IP."""
    items = json.loads(kubectl("-n", SYSTEM, "get", "pods", "-l", SELECTOR, "-o", "json"))["items"]
    return {p["metadata"]["name"]: p["status"].get("podIP", "") for p in items
            if not p["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}


def _exists(kubectl: Callable[..., str], pod: str) -> bool:
    return bool(kubectl("-n", SYSTEM, "get", "pods", "--field-selector", f"metadata.name={pod}", "-o", "name").strip())


def _holder(kubectl: Callable[..., str]) -> str:
    return json.loads(kubectl("-n", SYSTEM, "get", "lease", "updraft-operator", "-o", "json"))["spec"].get(
        "holderIdentity", "")


async def _until(what: str, check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


async def test_two_replicas_one_leader_and_a_prompt_handover(api: object, namespace: str,
                                                              kubectl: Callable[..., str]) -> None:
    from updraft.k8s.resources import Kube

    kubectl("-n", SYSTEM, "scale", "deploy/updraft-operator", "--replicas=2")
    try:
        def two_ready() -> dict[str, str] | None:
            ready = _pods(kubectl)
            return ready if len(ready) == 2 else None

        def leading() -> str | None:
            holder = _holder(kubectl)
            return holder if holder in pods else None

        pods = await _until("two ready operator pods", two_ready, 120)
        leader = await _until("a leader", leading, 30)
        await _until("metrics to agree", lambda: {n: _leader_gauge(ip) for n, ip in pods.items()} == {
            n: (1.0 if n == leader else 0.0) for n in pods}, 15)

        # the leader stops: it releases the Lease, and a standby leads at once. Which one: the
        # Deployment's replacement pod competes with the standby that was there, either may win.
        def new_holder() -> str | None:
            holder = _holder(kubectl)
            return holder if holder not in ("", leader) else None

        def successor_ready() -> dict[str, str] | None:
            ready = _pods(kubectl)
            return ready if successor in ready else None

        def a_standby() -> str | None:
            return next((n for n in _pods(kubectl) if n != successor), None)

        kubectl("-n", SYSTEM, "delete", "pod", leader, "--wait=false")
        t0 = time.monotonic()
        successor = await _until("another replica to take the Lease", new_holder, 30)
        handover = time.monotonic() - t0
        assert handover < 15, f"handover took {handover:.1f}s: the stopping leader did not release the Lease"
        ips = await _until("the successor ready", successor_ready, 60)
        await _until("the new leader's metrics", lambda: _leader_gauge(ips[successor]) == 1.0, 15)

        # a standby (waiting for the Lease, before kopf runs) stops promptly on SIGTERM too
        standby = await _until("a standby", a_standby, 90)
        t0 = time.monotonic()
        kubectl("-n", SYSTEM, "delete", "pod", standby, "--wait=false")
        await _until("the standby to exit", lambda: not _exists(kubectl, standby), 25)
        assert time.monotonic() - t0 < 15, "the standby waited out its grace period instead of stopping"

        kube = Kube(api)
        await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "ha"},
                           "spec": {"roleArn": "arn:aws:iam::123456789012:role/t", "triggerMode": "manual_only",
                                    "definition": DEFINITION}}, namespace)
        deadline = time.monotonic() + 120
        while not ((await kube.get("Workflow", "ha", namespace)).get("status") or {}).get("latestVersion"):
            assert time.monotonic() < deadline, "the new leader made no version"
            await asyncio.sleep(0.5)
        await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "ha-1"},
                           "spec": {"workflowName": "ha"}}, namespace)
        state = None
        while time.monotonic() < deadline:
            state = ((await kube.get("WorkflowRun", "ha-1", namespace)).get("status") or {}).get("runState")
            if state in ("SUCCESS", "FAILED"):
                break
            await asyncio.sleep(1)
        assert state == "SUCCESS"
        await kube.delete("Workflow", "ha", namespace)
    finally:
        kubectl("-n", SYSTEM, "scale", "deploy/updraft-operator", "--replicas=1")
        kubectl("-n", SYSTEM, "rollout", "status", "deploy/updraft-operator", "--timeout=120s")
