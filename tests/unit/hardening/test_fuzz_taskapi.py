"""The fuzz tier for the task API (issue 21): pushes and pulls with generated and mutated paths,
headers, tokens and bodies, over HTTP to the aiohttp app in this process, over a stand-in Kube
(tests/unit/fakekube.py: the properties are about input handling; no apiserver is needed for them).

The properties: no answer is a 500, nothing is logged with a traceback, every answer is JSON
(`{"value": ...}`, `{"ok": true}` or `{"error": <message>}`) with one of the statuses the task API
documents, and the run's XCom never exceeds its quota. Seeded (UPDRAFT_FUZZ_SEED);
UPDRAFT_FUZZ_EXAMPLES sets the number of requests."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import event, given, seed
from hypothesis import strategies as st

from fuzz_support import FUZZ, JSON, RAW_BODIES, SEED
from fakekube import FakeKube
from updraft.model.names import pod_name
from updraft.taskapi import server
from updraft.model.names import xcom_configmap_name
from updraft.taskapi.store import size_of
from updraft.taskapi.tokens import Attempt, token

KEY = b"k" * 32
NS, RUN = "fuzz", "run-1"
LIMIT = 2048
STATUSES = {200, 400, 401, 403, 404, 409, 413, 429}


class Harness:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.kube = FakeKube()
        self.run = self.kube.put({"kind": "WorkflowRun", "apiVersion": "updraft.dev/v1alpha1", "metadata": {"name": RUN},
                                  "spec": {"workflowName": "wf"}, "status": {"runState": "RUNNING", "taskInstances": [
                                      {"taskId": "load", "attemptNumber": 2, "podName": pod_name(RUN, "load", 2)}]}}, NS)
        self.kube.put({"kind": "WorkflowRun", "apiVersion": "updraft.dev/v1alpha1", "metadata": {"name": "done-1"},
                       "spec": {"workflowName": "wf"}, "status": {"runState": "SUCCESS"}}, NS)
        test_server = TestServer(server.build_app(self.kube, KEY, LIMIT, failures_per_second=1e6,  # type: ignore[arg-type]
                                                  failure_burst=10**6), loop=self.loop)
        self.loop.run_until_complete(test_server.start_server(loop=self.loop, **server.RUNNER_OPTIONS))
        self.client = TestClient(test_server, loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def token(self, run: str, task: str, attempt: int, pod: str | None = None) -> str:
        obj = self.kube.objects.get(("WorkflowRun", NS, run))
        uid = obj["metadata"]["uid"] if obj else "no-such-uid"
        return token(KEY, Attempt(NS, run, task, attempt, uid, pod or pod_name(run, task, attempt)))

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        async def go() -> tuple[int, bytes]:
            resp = await self.client.request(method, path, headers=headers, data=body)
            return resp.status, await resp.read()
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def harness():
    h = Harness()
    yield h
    h.close()


# mostly requests that get far (a valid token, the run's own names), the rest hostile
ODD = st.sampled_from(["..", "%2F", "a" * 300, "%00", "\u00e9", "b64.x", "done-1"]) | st.text(min_size=1, max_size=30)
RUNS = st.one_of(st.just(RUN), st.just(RUN), st.just(RUN), ODD)
TASKS = st.one_of(st.just("load"), st.just("load"), st.just("other"), ODD)
KEYS = st.one_of(st.sampled_from(["return_value", "k", "k2", "a.b", "x y"]), ODD)
TOKENS = st.one_of(st.just("valid"), st.just("valid"), st.just("valid"), st.sampled_from(
    ["other-task", "old-attempt", "other-pod", "forged", "missing", "garbage", "finished-run"]))
ATTEMPTS = st.one_of(st.just("2"), st.just("2"), st.sampled_from(["1", "02", "-1", "", "99999999999999999999", "2.0", " 2"]))
METHODS = st.sampled_from(["GET", "POST", "POST", "POST", "GET", "PUT"])


def headers_for(h: Harness, how: str, attempt: str, task: str) -> dict[str, str]:
    n = int(attempt) if attempt.strip().isdigit() and len(attempt.strip()) < 10 else 2
    tok = {"valid": h.token(RUN, task, n), "other-task": h.token(RUN, "other", n),
           "old-attempt": h.token(RUN, task, 1), "other-pod": h.token(RUN, task, n, pod_name(RUN, task, n, 3)),
           "forged": "x-1." + "0" * 64, "missing": "", "garbage": "\u00e9" * 50,
           "finished-run": h.token("done-1", task, n)}[how]
    out = {"X-Updraft-Task": task, "X-Updraft-Attempt": attempt}
    if tok:
        out["Authorization"] = f"Bearer {tok}"
    return {k: v for k, v in out.items() if v.isascii()}


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["value", "value", "value", "raw", "big", "deep", "none"]))
    if kind == "value":
        return json.dumps({"value": draw(JSON)}).encode()
    if kind == "raw":
        return draw(RAW_BODIES)
    if kind == "big":
        return json.dumps({"value": "x" * draw(st.sampled_from([1000, 3000, server.MAX_BODY + 1]))}).encode()
    if kind == "deep":
        depth = draw(st.sampled_from([server.MAX_DEPTH, server.MAX_DEPTH + 1, 100_000]))
        return b'{"value":' + b"[" * depth + b"]" * depth + b"}"
    return None


@seed(SEED)
@FUZZ
@given(method=METHODS, run=RUNS, task=TASKS, key=KEYS,
       how=TOKENS, attempt=ATTEMPTS, header_task=st.sampled_from(["load", "load", "load", "other"]), body=bodies())
def test_task_api_answers_every_request_cleanly(harness: Harness, caplog: pytest.LogCaptureFixture, method: str,
                                               run: str, task: str, key: str, how: str, attempt: str,
                                               header_task: str, body: bytes | None) -> None:
    caplog.set_level(logging.WARNING)
    caplog.clear()
    quote = lambda s: s if s.startswith("%") else urllib.parse.quote(s, safe="")  # noqa: E731
    path = f"/v1/namespaces/{NS}/runs/{quote(run)}/xcom/{quote(task)}/{quote(key)}"
    status, raw = harness.send(method, path, headers_for(harness, how, attempt, header_task), body)
    what = (method, path[:120], how, attempt, (body or b"")[:100])
    assert status in STATUSES | {405}, (status, raw[:200], what)  # 405: a method with no route
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, (what, [r.getMessage() for r in tracebacks])
    payload = json.loads(raw)
    assert isinstance(payload, dict) and (status == 200) != ("error" in payload), what
    event(f"status {status}")  # the mix, with --hypothesis-show-statistics
    cm = harness.kube.objects.get(("ConfigMap", NS, xcom_configmap_name(RUN)))
    assert cm is None or size_of(cm.get("data") or {}) <= LIMIT
    assert harness.kube.objects.get(("ConfigMap", NS, xcom_configmap_name("done-1"))) is None  # finished: never written
