"""The early report through the task API (taskapi/reports.py): written once on the attempt's own
pod, idempotent for a retry, refused when different, from another attempt's pod, a superseded pod
or to a finished run, and the first of two racing reports wins.

The app runs in-process over the unit tier's stand-in Kube (tests/unit/fakekube.py, which checks
resourceVersions on patch as the API server does): the task API's logic is what is tested; the
integration of report -> watch -> successors is timed by bench/task_start.py on the cluster."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from updraft.engine import Outcome, observe
from updraft.model import names
from updraft.model.names import pod_name
from updraft.taskapi import server
from updraft.taskapi.tokens import Attempt, token

from fakekube import FakeKube

KEY = b"k" * 32
NS, RUN = "ns", "run-1"
URL = f"/v1/namespaces/{NS}/runs/{RUN}/report"


def _run(kube: FakeKube, state: str = "RUNNING", tasks: list[dict[str, Any]] | None = None,
         uid: str | None = None) -> dict[str, Any]:
    meta = {"name": RUN, **({"uid": uid} if uid else {})}
    return kube.put({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": meta,
                     "spec": {"workflowName": "wf"}, "status": {"runState": state, "taskInstances": tasks or []}}, NS)


def _pod(kube: FakeKube, task: str = "load", attempt: int = 1, name: str | None = None) -> dict[str, Any]:
    return kube.put({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name or pod_name(RUN, task, attempt),
        "labels": {names.LABEL_RUN: RUN, names.LABEL_ATTEMPT: str(attempt)},
        "annotations": {names.ANNOTATION_TASK_ID: task}}, "status": {"phase": "Running"}}, NS)


def _headers(run: dict[str, Any], task: str = "load", attempt: int = 1, pod: str | None = None) -> dict[str, str]:
    pod = pod or pod_name(RUN, task, attempt)
    t = token(KEY, Attempt(NS, RUN, task, attempt, run["metadata"]["uid"], pod))
    return {"Authorization": f"Bearer {t}", "X-Updraft-Task": task, "X-Updraft-Attempt": str(attempt)}


async def _client(kube: FakeKube) -> TestClient:
    test_server = TestServer(server.build_app(kube, KEY))  # type: ignore[arg-type]
    await test_server.start_server(**server.RUNNER_OPTIONS)
    client = TestClient(test_server)
    await client.start_server()
    return client


async def _report_on(kube: FakeKube, task: str = "load", attempt: int = 1) -> str | None:
    pod = await kube.get("Pod", pod_name(RUN, task, attempt), NS)
    return (pod["metadata"].get("annotations") or {}).get(names.ANNOTATION_REPORT)


async def test_a_report_is_written_once_on_the_pod_and_a_retry_is_accepted() -> None:
    kube = FakeKube()
    run, _ = _run(kube), _pod(kube)
    client = await _client(kube)
    try:
        doc = {"state": "success", "logs": {"status": "SHIPPED", "sent": 3, "dropped": 0}}
        first = await client.post(URL, json=doc, headers=_headers(run))
        assert (first.status, await first.json()) == (200, {"ok": True, "recorded": True})
        again = await client.post(URL, json=doc, headers=_headers(run))  # its answer was lost: sent again
        assert (again.status, await again.json()) == (200, {"ok": True, "recorded": False})
        assert observe(await kube.get("Pod", pod_name(RUN, "load", 1), NS)).reported == Outcome(
            "success", log_status="SHIPPED")
    finally:
        await client.close()


async def test_a_different_second_report_is_refused_and_the_first_stands() -> None:
    kube = FakeKube()
    run, _ = _run(kube), _pod(kube)
    client = await _client(kube)
    try:
        assert (await client.post(URL, json={"state": "success"}, headers=_headers(run))).status == 200
        resp = await client.post(URL, json={"state": "failed", "error": "x"}, headers=_headers(run))
        assert resp.status == 409 and "different" in (await resp.json())["error"]
        assert await _report_on(kube) == '{"state":"success"}'
    finally:
        await client.close()


async def test_two_racing_reports_land_exactly_once() -> None:
    kube = FakeKube()
    run, _ = _run(kube), _pod(kube)
    client = await _client(kube)
    try:
        answers = await asyncio.gather(*(client.post(URL, json={"state": state}, headers=_headers(run))
                                         for state in ("success", "failed", "success", "skipped")))
        landed = await _report_on(kube)
        assert landed is not None
        for resp, state in zip(answers, ("success", "failed", "success", "skipped")):
            assert resp.status == (200 if f'"{state}"' in landed else 409)
    finally:
        await client.close()


async def test_only_the_tokens_own_current_attempt_may_report() -> None:
    kube = FakeKube()
    run = _run(kube, tasks=[{"taskId": "load", "attemptNumber": 2, "podName": pod_name(RUN, "load", 2)}])
    _pod(kube), _pod(kube, attempt=2), _pod(kube, task="other")
    client = await _client(kube)
    try:
        stale = await client.post(URL, json={"state": "success"}, headers=_headers(run))  # attempt 1: superseded
        assert stale.status == 409 and "no longer the current pod" in (await stale.json())["error"]
        assert await _report_on(kube) is None
        # a token minted for another task's pod name: the pod does not run this attempt
        forged = await client.post(URL, json={"state": "success"},
                                   headers=_headers(run, task="load", attempt=2, pod=pod_name(RUN, "other", 1)))
        assert forged.status == 403 and await _report_on(kube, "other") is None
        bad = await client.post(URL, json={"state": "success"},
                                headers={**_headers(run, attempt=2), "X-Updraft-Attempt": "3"})
        assert bad.status == 401
        gone = await client.post(URL, json={"state": "success"}, headers=_headers(run, attempt=3))
        assert gone.status == 404
        assert (await client.post(URL, json={"state": "success"}, headers=_headers(run, attempt=2))).status == 200
    finally:
        await client.close()


async def test_a_finished_run_takes_no_new_report_but_a_retry_of_one_that_landed_is_answered() -> None:
    kube = FakeKube()
    run, _ = _run(kube), _pod(kube)
    _pod(kube, task="late")
    client = await _client(kube)
    try:
        assert (await client.post(URL, json={"state": "success"}, headers=_headers(run))).status == 200
        run = _run(kube, state="SUCCESS", uid=run["metadata"]["uid"])  # the report finished the run
        again = await client.post(URL, json={"state": "success"}, headers=_headers(run))
        assert again.status == 200
        late = await client.post(URL, json={"state": "success"}, headers=_headers(run, task="late"))
        assert late.status == 409 and "finished" in (await late.json())["error"]
    finally:
        await client.close()


async def test_a_report_that_breaks_the_contract_is_refused_with_the_rule() -> None:
    kube = FakeKube()
    run, _ = _run(kube), _pod(kube)
    client = await _client(kube)
    try:
        for body, status, words in (({"state": "exploded"}, 400, '"state": one of'),
                                    ([1, 2], 400, '{"state": ...}'),
                                    ({"state": "failed", "error": "e" * 5000}, 413, "larger than 4096")):
            resp = await client.post(URL, json=body, headers=_headers(run))
            assert resp.status == status and words in (await resp.json())["error"]
        resp = await client.post(URL, data=b"x" * 20000, headers=_headers(run))
        assert resp.status == 413
        assert await _report_on(kube) is None
    finally:
        await client.close()
