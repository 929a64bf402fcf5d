"""Issue 21's task-API properties against the real apiserver: the XCom quota holds under parallel
pushes (the resourceVersion precondition is the apiserver's), and a run deleted and made again
under the same name accepts none of the old tokens."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from operator_harness import _free_port

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]

KEY = b"integration-key!" * 2


def _push(url: str, token: str, task: str, attempt: int, value: Any) -> int:
    req = urllib.request.Request(url, data=json.dumps({"value": value}).encode(), method="POST",  # noqa: S310
                                 headers={"Authorization": f"Bearer {token}", "X-Updraft-Task": task,
                                          "X-Updraft-Attempt": str(attempt), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


async def test_parallel_pushes_keep_the_quota_and_old_tokens_die_with_their_run(api: Any, namespace: str) -> None:
    from updraft.k8s.resources import Kube
    from updraft.model.names import pod_name
    from updraft.taskapi import server
    from updraft.model.names import xcom_configmap_name
    from updraft.taskapi.store import size_of
    from updraft.taskapi.tokens import Attempt, token

    kube = Kube(api)
    port = _free_port()
    runner = await server.start(kube, KEY, port, host="127.0.0.1")
    try:
        body = {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "q-1"},
                "spec": {"workflowName": "wf"}}
        uid = (await kube.create(body, namespace)).body["metadata"]["uid"]
        tok = token(KEY, Attempt(namespace, "q-1", "load", 1, uid, pod_name("q-1", "load", 1)))
        base = f"http://127.0.0.1:{port}/v1/namespaces/{namespace}/runs/q-1/xcom/load"
        big = "x" * (150 * 1024)
        codes = await asyncio.gather(*(asyncio.to_thread(_push, f"{base}/k{i}", tok, "load", 1, big) for i in range(5)))
        assert sorted(codes) == [200, 413, 413, 413, 413], codes
        cm = await kube.get("ConfigMap", xcom_configmap_name("q-1"), namespace)
        assert size_of(cm["data"]) <= 200 * 1024

        await kube.delete("WorkflowRun", "q-1", namespace)
        for _ in range(50):
            if await kube.get_or_none("WorkflowRun", "q-1", namespace) is None:
                break
            await asyncio.sleep(0.2)
        await kube.create(body, namespace)
        assert await asyncio.to_thread(_push, f"{base}/after", tok, "load", 1, 1) == 401
    finally:
        await runner.cleanup()
