"""End to end: the README's first example, applied as a user would, runs to SUCCESS through the
deployed operator and the real runner image (Airflow's EmptyOperator in every task pod)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
EXAMPLE = Path(__file__).parents[2] / "examples" / "01-hello"


async def test_hello_example_runs_to_success(api: object, namespace: str) -> None:
    from kubernetes_asyncio import client

    from updraft.k8s.resources import Kube

    kube = Kube(api)
    for manifest in ("workflow.yaml", "run.yaml"):
        await kube.create(yaml.safe_load((EXAMPLE / manifest).read_text()), namespace)
    deadline = time.monotonic() + 240
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = await kube.get("WorkflowRun", "hello-1", namespace)
        if (run.get("status") or {}).get("runState") in ("SUCCESS", "FAILED"):
            break
        await asyncio.sleep(1)
    status = run.get("status") or {}
    assert status.get("runState") == "SUCCESS", status
    assert {t["taskId"]: t["status"] for t in status["taskInstances"]} == dict.fromkeys(
        ["start", "left", "right", "done"], "SUCCESS")
    # the task's log is readable and tagged with its workflow, run, task and attempt
    pod = next(t["podName"] for t in status["taskInstances"] if t["taskId"] == "left")
    logs = await client.CoreV1Api(api).read_namespaced_pod_log(pod, namespace)
    assert "workflow=hello run=hello-1 task=left attempt=1" in logs and "finished: success" in logs
    await kube.delete("Workflow", "hello", namespace)
    while time.monotonic() < deadline and await kube.list("WorkflowRun", namespace):
        await asyncio.sleep(1)
