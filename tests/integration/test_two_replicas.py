"""Two operator replicas at once (no leader election): every write is idempotent by name, so a
scheduled fire time yields one run and every task attempt one pod, whoever gets there first."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from operator_harness import OperatorProcess, remove_all, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


@pytest.fixture
async def two_operators(kubeconfig: str, namespace: str, api: object, tmp_path: Path) -> AsyncIterator[list[OperatorProcess]]:
    procs = [OperatorProcess(kubeconfig, namespace, tmp_path / str(i)) for i in (1, 2)]
    for p in procs:
        p.log_dir.mkdir()
        p.start()
    yield procs
    await remove_all(api, namespace)
    for p in procs:
        p.stop()


async def test_two_replicas_never_duplicate(two_operators: list[OperatorProcess], api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "both"},
                       "spec": {"roleArn": "arn:aws:iam::123456789012:role/t", "definition": textwrap.dedent("""
                           both:
                             schedule: '* * * * *'
                             tasks:
                               ok_a: {operator: EmptyOperator}
                               ok_b: {operator: EmptyOperator, dependencies: [ok_a]}
                       """)}}, namespace)

    async def two_done() -> list[dict[str, Any]] | None:
        runs = await kube.list("WorkflowRun", namespace)
        done = [r for r in runs if (r.get("status") or {}).get("runState") == "SUCCESS"]
        return runs if len(done) >= 2 else None

    runs = await wait_for(two_done, timeout=200, what="two scheduled runs finished")
    fires = [r["spec"]["logicalDate"] for r in runs]
    assert len(fires) == len(set(fires)), fires
    pods = await kube.list("Pod", namespace)
    per_attempt = [(p["metadata"]["labels"]["updraft.dev/run"], p["metadata"]["annotations"]["updraft.dev/task-id"],
                    p["metadata"]["labels"]["updraft.dev/attempt"]) for p in pods]
    assert len(per_attempt) == len(set(per_attempt))
    for run in runs:
        if (run.get("status") or {}).get("runState") == "SUCCESS":
            assert {t["attemptNumber"] for t in run["status"]["taskInstances"]} == {1}
