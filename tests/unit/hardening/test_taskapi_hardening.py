"""The task API against a hostile or stale caller (issue 21): tokens bound to the run object and
the pod, no writes to finished runs or from superseded pods, the XCom quota under concurrent
pushes, bodies over the limit or too deep, and throttled failed authentication.

The app runs in-process over a stand-in Kube (tests/unit/fakekube.py: what matters here is the task
API's logic, and the cluster is not needed for it); the apiserver-backed version of the quota and
re-created-run properties is tests/integration/test_taskapi_hardening.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from updraft.model.names import pod_name
from updraft.taskapi import server
from updraft.model.names import xcom_configmap_name as configmap_name
from updraft.taskapi.store import size_of
from updraft.taskapi.tokens import Attempt, token

from fakekube import FakeKube

KEY = b"k" * 32
NS, RUN = "ns", "run-1"


def _run(kube: FakeKube, state: str = "RUNNING", tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return kube.put({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": RUN},
                     "spec": {"workflowName": "wf"}, "status": {"runState": state, "taskInstances": tasks or []}}, NS)


def _headers(run: dict[str, Any], task: str = "load", attempt: int = 1, pod: str | None = None) -> dict[str, str]:
    pod = pod or pod_name(RUN, task, attempt)
    t = token(KEY, Attempt(NS, RUN, task, attempt, run["metadata"]["uid"], pod))
    return {"Authorization": f"Bearer {t}", "X-Updraft-Task": task, "X-Updraft-Attempt": str(attempt)}


async def _client(kube: FakeKube, **kw: Any) -> TestClient:
    test_server = TestServer(server.build_app(kube, KEY, **kw))  # type: ignore[arg-type]
    await test_server.start_server(**server.RUNNER_OPTIONS)
    client = TestClient(test_server)
    await client.start_server()
    return client


def _url(task: str = "load", key: str = "k") -> str:
    return f"/v1/namespaces/{NS}/runs/{RUN}/xcom/{task}/{key}"


async def test_a_pushed_value_reads_back():
    kube = FakeKube()
    run = _run(kube)
    client = await _client(kube)
    try:
        assert (await client.post(_url(), json={"value": [1, 2]}, headers=_headers(run))).status == 200
        resp = await client.get(_url(), headers=_headers(run, task="other"))
        assert (resp.status, await resp.json()) == (200, {"value": [1, 2]})
    finally:
        await client.close()


async def test_a_run_made_again_under_the_same_name_accepts_no_old_token():
    kube = FakeKube()
    old = _run(kube)
    _run(kube)  # deleted and created again: a new uid
    client = await _client(kube)
    try:
        assert (await client.get(_url(), headers=_headers(old))).status == 401
        assert (await client.post(_url(), json={"value": 1}, headers=_headers(old))).status == 401
    finally:
        await client.close()


async def test_a_token_works_only_for_its_pod():
    kube = FakeKube()
    run = _run(kube)
    client = await _client(kube)
    try:
        h = _headers(run)
        mac = h["Authorization"].rsplit(".", 1)[1]
        other_pod = {**h, "Authorization": f"Bearer {pod_name(RUN, 'load', 1, 1)}.{mac}"}
        assert (await client.post(_url(), json={"value": 1}, headers=other_pod)).status == 401
        assert (await client.post(_url(), json={"value": 1}, headers={**h, "X-Updraft-Attempt": "01"})).status == 401
    finally:
        await client.close()


async def test_a_finished_run_takes_no_more_xcom():
    kube = FakeKube()
    run = _run(kube, state="SUCCESS")
    client = await _client(kube)
    try:
        resp = await client.post(_url(), json={"value": "tampered"}, headers=_headers(run))
        assert resp.status == 409 and "finished" in (await resp.json())["error"]
        assert kube.objects.get(("ConfigMap", NS, configmap_name(RUN))) is None
        assert (await client.get(_url(), headers=_headers(run))).status == 404  # reading stays allowed
    finally:
        await client.close()


async def test_a_superseded_pod_may_not_overwrite_but_a_newer_one_may():
    kube = FakeKube()
    run = _run(kube, tasks=[{"taskId": "load", "attemptNumber": 2, "podName": pod_name(RUN, "load", 2)}])
    client = await _client(kube)
    try:
        zombie = await client.post(_url(), json={"value": 1}, headers=_headers(run, attempt=1))
        assert zombie.status == 409 and "no longer the current pod" in (await zombie.json())["error"]
        current = await client.post(_url(), json={"value": 2}, headers=_headers(run, attempt=2))
        assert current.status == 200
        # a reschedule the status does not show yet is newer, not stale
        ahead = await client.post(_url(), json={"value": 3}, headers=_headers(run, attempt=2, pod=pod_name(RUN, "load", 2, 1)))
        assert ahead.status == 200
    finally:
        await client.close()


async def test_parallel_pushes_never_exceed_the_quota():
    kube = FakeKube()
    run = _run(kube)
    client = await _client(kube)
    try:
        big = "x" * (150 * 1024)
        statuses = await asyncio.gather(*(
            client.post(_url(key=f"k{i}"), json={"value": big}, headers=_headers(run)) for i in range(5)))
        codes = sorted(r.status for r in statuses)
        assert codes == [200, 413, 413, 413, 413], codes
        data = kube.objects[("ConfigMap", NS, configmap_name(RUN))]["data"]
        assert size_of(data) <= 200 * 1024 and len(data) == 1
    finally:
        await client.close()


async def test_bodies_over_the_limit_or_too_deep_are_refused_cleanly():
    kube = FakeKube()
    run = _run(kube)
    client = await _client(kube)
    try:
        too_big = await client.post(_url(), data=b'{"value":"' + b"x" * server.MAX_BODY + b'"}', headers=_headers(run))
        assert too_big.status == 413 and "larger than" in (await too_big.json())["error"]
        for depth in (100_000, server.MAX_DEPTH + 1):
            deep = await client.post(_url(), data=b'{"value":' + b"[" * depth + b"]" * depth + b"}", headers=_headers(run))
            assert deep.status == 400 and "levels deep" in (await deep.json())["error"]
        for body in (b"\xff\xfe", b"[1]", b'{"v":1}', b""):
            resp = await client.post(_url(), data=body, headers=_headers(run))
            assert resp.status == 400, body
    finally:
        await client.close()


async def test_failed_authentications_are_throttled_per_address():
    kube = FakeKube()
    run = _run(kube)
    client = await _client(kube, failures_per_second=0.001, failure_burst=3)
    try:
        bad = {**_headers(run), "Authorization": "Bearer nonsense"}
        codes = [(await client.get(_url(), headers=bad)).status for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        limited = await client.get(_url(), headers=_headers(run))  # the address is held back, whoever it is
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    finally:
        await client.close()


async def test_an_unauthenticated_push_is_not_read():
    kube = FakeKube()
    _run(kube)
    client = await _client(kube)
    try:
        resp = await client.post(_url(), data=b"x" * (10 * server.MAX_BODY))
        assert resp.status == 401 and json.loads(await resp.read()) == {"error": server.UNAUTHORIZED}
    finally:
        await client.close()
