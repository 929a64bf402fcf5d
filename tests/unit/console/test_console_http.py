"""The console over HTTP: the real ApiServer, Service and console routes over the in-memory
Kubernetes stand-in (tests/unit/fakekube.py; the integration test test_console_browser.py runs
the real apiserver, operator and a browser). Launch URLs are made with CreateAirflowUiUrl signed
by botocore itself; pages are fetched with a cookie jar as a browser would."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent.parent))
from fakekube import FakeKube  # noqa: E402

from updraft import arns  # noqa: E402
from updraft.api.audit import AuditLog  # noqa: E402
from updraft.api.credentials import Principal  # noqa: E402
from updraft.api.pagination import PageTokens  # noqa: E402
from updraft.api.server import ApiServer, ServerConfig  # noqa: E402
from updraft.api.service import Service, ServiceConfig  # noqa: E402
from updraft.console.routes import COOKIE, mount  # noqa: E402
from updraft.model import names  # noqa: E402
from updraft.model.workflow import Workflow  # noqa: E402
from updraft.versions import compile_definition, Versions  # noqa: E402
from updraft.definition import Limits  # noqa: E402

REGION, ACCOUNT, NS = "us-east-1", "123456789012", "d"
ADMIN = ("AKIAADMIN00000000001", "admin-secret")
READER = ("AKIAREADER0000000001", "reader-secret")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
DEFINITION = """
etl:
  schedule: "0 6 * * *"
  timezone: Europe/Paris
  params: {limit: 10, label: nightly}
  tasks:
    extract: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    load: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [extract]}
"""
FULL = ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},)
READ_ONLY = ({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["airflow-serverless:Get*", "airflow-serverless:List*",
                                   "airflow-serverless:CreateAirflowUiUrl"], "Resource": "*"}]},)


class Clock:
    """The wall clock (botocore signs with it) plus what a test moved it on by."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.ahead


async def _world(kube: FakeKube) -> tuple[str, str]:
    """A workflow with a stored version and one running run; (workflow id, run id)."""
    wf = kube.put({"apiVersion": names.API_VERSION, "kind": "Workflow", "metadata": {"name": "etl"},
                   "spec": {"definition": DEFINITION, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                            "tags": {"team": "finance"}}}, NS)
    compiled = await compile_definition(wf["spec"], NS, kube, lambda: None, Limits(), NOW)  # type: ignore[arg-type]
    await Versions(kube).store(compiled, Workflow.from_body(wf), "Europe/Paris")  # type: ignore[arg-type]
    wf["status"] = {"latestVersion": compiled.version_id}
    kube.objects[("Workflow", NS, "etl")]["status"] = wf["status"]
    kube.put({"apiVersion": names.API_VERSION, "kind": "Workflow", "metadata": {"name": "fresh"},
              "spec": {"definition": DEFINITION, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}}, NS)  # no version yet
    run = "etl-m-1"
    kube.put({"apiVersion": names.API_VERSION, "kind": "WorkflowRun", "metadata": {"name": run},
              "spec": {"workflowName": "etl", "runType": "ON_DEMAND"},
              "status": {"runState": "RUNNING", "workflowVersion": compiled.version_id, "startedOn": "2026-12-02T11:59:00Z",
                         "taskInstances": [
                             {"taskId": "extract", "taskInstanceId": names.task_instance_id(run, "extract"),
                              "status": "SUCCESS", "attemptNumber": 1},
                             {"taskId": "load", "taskInstanceId": names.task_instance_id(run, "load"),
                              "status": "RUNNING", "attemptNumber": 1}]}}, NS)
    uid = kube.objects[("WorkflowRun", NS, run)]["metadata"]["uid"]
    for i, (who, at, type_, reason, message) in enumerate([
            (uid, "2026-12-02T11:59:30Z", "Normal", "TaskState", "task extract is SUCCESS (attempt 1)"),
            (uid, "2026-12-02T11:59:40Z", "Warning", "ActionFailed", "CreatePod: pods \"x\" is forbidden: <quota>"),
            ("an-older-run-of-that-name", "2026-12-02T10:00:00Z", "Normal", "TaskState", "from before")]):
        kube.put({"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{run}.{i}"}, "type": type_,
                  "reason": reason, "message": message, "lastTimestamp": at, "count": 1 + i,
                  "involvedObject": {"kind": "WorkflowRun", "name": run, "namespace": NS, "uid": who}}, NS)
    return arns.arn_of(kube.objects[("Workflow", NS, "etl")], REGION, ACCOUNT).split(":workflow/", 1)[1], run


async def _client(no_auth: bool = False) -> tuple[TestClient, io.StringIO, Clock, str, str]:
    kube, clock, audit = FakeKube(), Clock(), io.StringIO()
    wid, run = await _world(kube)
    service = Service(kube, ServiceConfig(namespace=NS, region=REGION, account_id=ACCOUNT),  # type: ignore[arg-type]
                      PageTokens(b"k" * 32), s3_client_factory=lambda: None, clock=clock)
    credentials = None if no_auth else {
        ADMIN[0]: Principal(ADMIN[0], ADMIN[1], f"arn:aws:iam::{ACCOUNT}:user/admin", FULL),
        READER[0]: Principal(READER[0], READER[1], f"arn:aws:iam::{ACCOUNT}:user/reader", READ_ONLY)}
    server = ApiServer(service, ServerConfig(region=REGION, account_id=ACCOUNT, credentials=credentials,
                                             clock=clock), AuditLog(audit))
    app = server.app()
    mount(app, server)
    client = TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True))
    await client.start_server()
    return client, audit, clock, wid, run


async def _launch_url(client: TestClient, key: tuple[str, str], **params: Any) -> str:
    body = json.dumps(params).encode()
    url = str(client.make_url("/"))
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "X-Amz-Target": "AmazonMWAAServerless.CreateAirflowUiUrl", "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(*key), "airflow-serverless", REGION).add_auth(request)
    answer = await client.post("/", data=body, headers=dict(request.headers.items()))
    assert answer.status == 200, await answer.text()
    result = json.loads(await answer.text())
    assert re.fullmatch(r"[a-z0-9]{32}", result["SessionId"])
    return str(result["AuthorizedUrl"])


async def _sign_in(client: TestClient, key: tuple[str, str] = ADMIN) -> None:
    url = await _launch_url(client, key)
    token = url.split("#", 1)[1]
    assert url.split("#", 1)[0].endswith("/ui/launch")
    answer = await client.post("/ui/session", data={"token": token}, allow_redirects=False)
    assert answer.status == 303, await answer.text()
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _events(audit: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit.getvalue().splitlines() if line.strip()]


async def test_a_launch_url_signs_in_once_and_pages_are_audited_as_their_operations() -> None:
    client, audit, _, wid, run = await _client()
    try:
        assert (await client.get("/ui/")).status == 401  # no session yet
        url = await _launch_url(client, ADMIN, ExpiresInSeconds=60)
        token = url.split("#", 1)[1]
        assert (await client.post("/ui/session", data={"token": token}, allow_redirects=False)).status == 303
        again = await client.post("/ui/session", data={"token": token}, allow_redirects=False)
        assert again.status == 401  # single use
        listing = await client.get("/ui/")
        text = await listing.text()
        assert listing.status == 200 and f'/ui/workflows/{wid}' in text and "Europe/Paris" in text
        assert "Content-Security-Policy" in listing.headers
        page = await (await client.get(f"/ui/workflows/{wid}/runs/{run}")).text()
        assert 'data-task="load" data-state="RUNNING"' in page and 'data-live="3"' in page
        assert '<span class="state s-running">RUNNING</span>' in page
        assert 'id="stop-run"' in page
        operations = [e["eventName"] for e in _events(audit)]
        assert operations[:1] == ["CreateAirflowUiUrl"]
        assert {"ListWorkflows", "GetWorkflow", "ListWorkflowRuns", "GetWorkflowRun", "ListTaskInstances"} <= set(operations)
        console_events = [e for e in _events(audit) if e["eventName"] == "GetWorkflowRun"]
        assert console_events[0]["additionalEventData"]["console"]["sessionId"]
        assert console_events[0]["userIdentity"]["arn"].endswith("user/admin")
        assert token not in audit.getvalue()  # the launch URL is sensitive: never in the trail
    finally:
        await client.close()


async def test_an_expired_launch_url_or_session_is_refused() -> None:
    client, _, clock, _, _ = await _client()
    try:
        url = await _launch_url(client, ADMIN, ExpiresInSeconds=5, SessionDurationInSeconds=60)
        clock.ahead += timedelta(seconds=6)
        answer = await client.post("/ui/session", data={"token": url.split("#")[1]}, allow_redirects=False)
        assert answer.status == 401
        await _sign_in(client)
        assert (await client.get("/ui/")).status == 200
        clock.ahead += timedelta(hours=13)  # past the default 12-hour session
        assert (await client.get("/ui/")).status == 401
    finally:
        await client.close()


async def test_actions_need_the_csrf_token_and_a_same_origin() -> None:
    client, audit, _, wid, run = await _client()
    try:
        await _sign_in(client)
        page = await (await client.get(f"/ui/workflows/{wid}")).text()
        csrf = _csrf(page)
        assert 'name="param.limit" value="10"' in page and 'name="param.label" value="nightly"' in page
        without = await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", data={}, allow_redirects=False)
        assert without.status == 403
        foreign = await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", data={"csrf": csrf},
                                    headers={"Origin": "https://evil.example"}, allow_redirects=False)
        assert foreign.status == 403
        assert "StopWorkflowRun" not in [e["eventName"] for e in _events(audit)]
        stopped = await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", data={"csrf": csrf}, allow_redirects=False)
        assert stopped.status == 303 and stopped.headers["Location"].endswith(f"/runs/{run}")
        started = await client.post(f"/ui/workflows/{wid}/runs", allow_redirects=False, data={
            "csrf": csrf, "client_token": "t-1", "param.limit": "25", "param.label": "nightly"})
        assert started.status == 303, await started.text()
        events = {e["eventName"]: e for e in _events(audit)}
        assert events["StopWorkflowRun"].get("errorCode") is None
        assert events["StartWorkflowRun"].get("errorCode") is None
        bad = await client.post(f"/ui/workflows/{wid}/runs", allow_redirects=False, data={
            "csrf": csrf, "client_token": "t-2", "param.limit": "not json"})
        assert bad.status == 400 and "OverrideParameters.limit" in await bad.text()
    finally:
        await client.close()


async def test_a_reader_sees_pages_but_no_actions_and_cannot_act() -> None:
    client, audit, _, wid, run = await _client()
    try:
        await _sign_in(client, READER)
        page = await (await client.get(f"/ui/workflows/{wid}/runs/{run}")).text()
        assert 'id="stop-run"' not in page
        assert 'id="start-run"' not in await (await client.get(f"/ui/workflows/{wid}")).text()
        csrf = _csrf(page)
        refused = await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", data={"csrf": csrf}, allow_redirects=False)
        assert refused.status == 403 and "AccessDenied" in await refused.text()
        denied = [e for e in _events(audit) if e["eventName"] == "StopWorkflowRun"]
        assert denied and denied[0]["errorCode"] == "AccessDeniedException"
    finally:
        await client.close()


async def test_a_session_is_bound_to_the_address_that_opened_it() -> None:
    client, _, _, _, _ = await _client()
    try:
        await _sign_in(client)
        cookie = next(c for c in client.session.cookie_jar if c.key == COOKIE)
        assert cookie["httponly"]
        assert (await client.get("/ui/")).status == 200
        session = next(iter(_stores(client).values()))  # as if the cookie were presented from elsewhere
        object.__setattr__(session, "client_ip", "192.0.2.99")
        assert (await client.get("/ui/")).status == 401
    finally:
        await client.close()


def _stores(client: TestClient) -> dict[str, Any]:
    handler = next(r.handler for r in client.app.router.routes() if r.resource and r.resource.canonical == "/ui/")
    return handler.__self__.store._sessions  # type: ignore[attr-defined,no-any-return]


async def test_without_authentication_the_console_is_open_and_still_needs_csrf() -> None:
    client, _, _, wid, run = await _client(no_auth=True)
    try:
        page = await client.get(f"/ui/workflows/{wid}/runs/{run}")
        assert page.status == 200 and "no authentication" in await page.text()
        assert (await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", data={}, allow_redirects=False)).status == 403
        assert (await client.post(f"/ui/workflows/{wid}/runs/{run}/stop", allow_redirects=False,
                                  data={"csrf": _csrf(await page.text())})).status == 303
    finally:
        await client.close()


async def test_unknown_things_answer_a_page_not_a_traceback() -> None:
    client, _, _, wid, run = await _client()
    try:
        await _sign_in(client)
        missing = await client.get(f"/ui/workflows/{wid}/runs/nope-1")
        assert missing.status == 404 and "ResourceNotFoundException" in await missing.text()
        gone = await client.get("/ui/workflows/other-abcdefghij")
        assert gone.status == 404
        task = await client.get(f"/ui/workflows/{wid}/runs/{run}/tasks/load?attempt=abc")
        text = await task.text()
        assert task.status == 200 and "Source: <strong>none</strong>" in text  # no pod in the stand-in
        assert (await client.get("/ui/static/console.js")).status == 200
        assert (await client.get("/ui/static/..%2Fsessions.py")).status == 404
        listing = await (await client.get("/ui/")).text()
        fresh = re.search(r'href="/ui/workflows/(fresh-[A-Za-z0-9]{10})"', listing)
        assert fresh, listing
        young = await client.get(f"/ui/workflows/{fresh.group(1)}")  # not compiled yet: no graph, no form
        young_text = await young.text()
        assert young.status == 200 and "No valid version yet" in young_text and 'id="start-run"' not in young_text
        nowhere = await client.get("/ui/no/such/page")
        assert nowhere.status == 404 and nowhere.content_type == "text/html"
    finally:
        await client.close()


async def test_guessing_launch_tokens_is_throttled_per_address() -> None:
    client, _, _, _, _ = await _client()
    try:
        statuses = [(await client.post("/ui/session", data={"token": f"guess-{i}"}, allow_redirects=False)).status
                    for i in range(25)]
        assert statuses[0] == 401 and statuses[-1] == 429  # the API's unauthenticated bucket (burst 20)
    finally:
        await client.close()


@pytest.mark.parametrize("params", [{"ExpiresInSeconds": 301}, {"SessionDurationInSeconds": 0}])
async def test_launch_url_limits_are_the_models(params: dict[str, int]) -> None:
    client, _, _, _, _ = await _client()
    try:
        body = json.dumps(params).encode()
        request = AWSRequest(method="POST", url=str(client.make_url("/")), data=body, headers={
            "X-Amz-Target": "AmazonMWAAServerless.CreateAirflowUiUrl", "Content-Type": "application/x-amz-json-1.0"})
        SigV4Auth(Credentials(*ADMIN), "airflow-serverless", REGION).add_auth(request)
        answer = await client.post("/", data=body, headers=dict(request.headers.items()))
        assert answer.status == 400 and json.loads(await answer.text())["__type"] == "ValidationException"
    finally:
        await client.close()


async def test_the_list_shows_tags_and_filters_by_them_and_a_run_page_its_own_events() -> None:
    client, audit, _, wid, run = await _client()
    try:
        await _sign_in(client)
        listing = await (await client.get("/ui/")).text()
        assert '<span class="tag">team=finance</span>' in listing
        by_tag = await (await client.get("/ui/", params={"q": "team=fin"})).text()
        assert 'data-workflow="etl"' in by_tag and 'data-workflow="fresh"' not in by_tag
        assert "ListTagsForResource" in [e["eventName"] for e in _events(audit)]
        page = await (await client.get(f"/ui/workflows/{wid}/runs/{run}")).text()
        events = page.split("<h2>Events</h2>", 1)[1]
        # newest first, escaped, the Warning marked, and not an older run's that had the same name
        assert events.index("ActionFailed") < events.index("task extract is SUCCESS")
        assert 'class="ev-warning"' in events and "&lt;quota&gt;" in events
        assert "from before" not in events
    finally:
        await client.close()
