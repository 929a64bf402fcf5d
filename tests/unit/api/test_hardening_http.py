"""Hostile HTTP input to the API server (issue 21): bodies over the limit, deep nesting, floods of
unauthenticated requests, oversized caller text in the audit trail, ARNs of other partitions.

The server runs in-process (aiohttp's test server) over a stand-in service: none of these
properties needs Kubernetes, and every refusal here happens before the service is called (the
stand-in raises if it is)."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from updraft.api import audit as audit_mod, protocol
from updraft.api.audit import AuditLog
from updraft.api.credentials import Principal
from updraft.api.server import RUNNER_OPTIONS, ApiServer, ServerConfig
from updraft.guards.throttle import RateLimiter

KEY, SECRET = "AKIATEST000000000001", "secret"
ARN = "arn:aws:iam::123456789012:user/tester"
SERVERS: list[ApiServer] = []
PROD = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/prod-etl-abcdef1234"


class MustNotRun:
    calls = 0

    async def resource_of(self, operation: str, params: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return "*", {}

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        return {"Workflows": []} if operation == "ListWorkflows" else {"WorkflowArn": params.get("WorkflowArn")}


def _signed(url: str, target: str = "ListWorkflows", body: bytes = b"{}", **extra: str) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url + "/", data=body,
                         headers={"X-Amz-Target": f"AmazonMWAAServerless.{target}",
                                  "Content-Type": "application/x-amz-json-1.0", **extra})
    SigV4Auth(Credentials(KEY, SECRET), "airflow-serverless", "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def _client(service: Any = None, **config: Any) -> tuple[TestClient, io.StringIO, Any]:
    service = service or MustNotRun()
    out = io.StringIO()
    server = ApiServer(service, ServerConfig(
        region="us-east-1", account_id="123456789012",
        credentials={KEY: Principal(access_key_id=KEY, secret_access_key=SECRET, arn=ARN, policies=None)},
        clock=lambda: datetime.now(timezone.utc), **config), AuditLog(out))
    SERVERS.append(server)
    test_server = TestServer(server.app())
    await test_server.start_server(**RUNNER_OPTIONS)  # runner options go here, not to TestServer()
    client = TestClient(test_server)
    await client.start_server()
    return client, out, service


def _url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_a_body_over_the_limit_is_413_in_the_aws_shape_not_a_500():
    client, audit, service = await _client()
    try:
        body = b'{"x":"' + b"a" * (protocol.MAX_BODY + 10) + b'"}'
        resp = await client.post("/", data=body, headers=_signed(_url(client), body=body))
        payload = json.loads(await resp.read())
        assert resp.status == 413
        assert payload["__type"] == "ValidationException" and str(protocol.MAX_BODY) in payload["message"]
        assert service.calls == 0
        assert json.loads(audit.getvalue().splitlines()[-1])["errorCode"] == "ValidationException"
    finally:
        await client.close()


async def test_a_chunked_body_over_the_limit_is_413_too():
    client, _, _ = await _client()
    try:
        async def chunks():
            for _ in range(protocol.MAX_BODY // 65536 + 2):
                yield b"a" * 65536
        resp = await client.post("/", data=chunks(), headers=_signed(_url(client)))
        assert resp.status == 413 and json.loads(await resp.read())["__type"] == "ValidationException"
    finally:
        await client.close()


async def test_deeply_nested_json_is_a_validation_error_not_a_recursion_error():
    client, _, service = await _client()
    try:
        for depth in (100_000, 40):
            body = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
            resp = await client.post("/", data=body, headers=_signed(_url(client), body=body))
            payload = json.loads(await resp.read())
            assert resp.status == 400, payload
            assert (payload["__type"], payload["Reason"]) == ("ValidationException", "cannotParse")
            assert "levels deep" in payload["message"]
        assert service.calls == 0
    finally:
        await client.close()


def test_depth_check_is_iterative_and_exact():
    value: Any = 1
    for _ in range(50_000):
        value = [value]
    assert protocol.deeper_than(value, protocol.MAX_DEPTH)
    ok: Any = {}
    for _ in range(protocol.MAX_DEPTH - 1):
        ok = {"k": ok}
    assert not protocol.deeper_than(ok, protocol.MAX_DEPTH)
    assert protocol.deeper_than({"k": ok}, protocol.MAX_DEPTH)


async def test_unauthenticated_requests_are_throttled_per_address_and_never_read():
    client, audit, service = await _client(unauthenticated_rate_per_second=0.01, unauthenticated_burst=3,
                                           audit_unauthenticated_per_second=0.01, audit_unauthenticated_burst=2)
    try:
        codes = []
        for _ in range(8):
            resp = await client.post("/", data=b"{}", headers={"X-Amz-Target": "AmazonMWAAServerless.ListWorkflows",
                                                              "User-Agent": "x" * 5000})
            codes.append((resp.status, json.loads(await resp.read())["__type"]))
        assert codes[:3] == [(403, "MissingAuthenticationTokenException")] * 3
        assert set(codes[3:]) == {(429, "ThrottlingException")}
        lines = audit.getvalue().splitlines()
        assert len(lines) == 2  # the audit trail is bounded too
        assert all(len(json.loads(line)["userAgent"]) <= audit_mod.MAX_TEXT for line in lines)
        assert service.calls == 0
    finally:
        await client.close()


async def test_an_unauthenticated_body_is_not_read():
    """A refused request's body is left unread: the answer comes while the client is still sending."""
    client, _, _ = await _client()
    try:
        sent = 0

        async def slow_body():
            nonlocal sent
            yield b'{"a":"'
            for _ in range(50):
                await asyncio.sleep(0.05)
                sent += 1
                yield b"a" * 1000

        resp = await client.post("/", data=slow_body(), headers={"X-Amz-Target": "AmazonMWAAServerless.ListWorkflows"})
        assert resp.status == 403
        assert sent < 50
    except aiohttp.ClientError:
        pass  # the server may close the connection while the body is still being sent: also not read
    finally:
        await client.close()


async def test_suppressed_audit_events_are_counted_in_the_next_one():
    client, audit, _ = await _client(unauthenticated_burst=100, audit_unauthenticated_per_second=0.001,
                                     audit_unauthenticated_burst=1)
    try:
        for _ in range(5):
            await client.post("/", data=b"{}")
        assert len(audit.getvalue().splitlines()) == 1
        server = SERVERS[-1]
        server.audit_limiter = RateLimiter(0.001, 1)  # time passes: the bucket is full again
        await client.post("/", data=b"{}")
        last = json.loads(audit.getvalue().splitlines()[-1])
        assert last["additionalEventData"] == {"suppressedUnauthenticatedEvents": 4}
    finally:
        await client.close()


def test_audit_bounded_cuts_caller_text_and_huge_parameters():
    record = audit_mod.event(operation="ListWorkflows", principal_arn=None, access_key_id=None, source_ip="1.2.3.4",
                             user_agent="u" * 100_000, request_parameters={"p": "x" * 200_000}, response_elements=None,
                             error_code="X", error_message="m" * 100_000, region="us-east-1", account_id="123456789012",
                             now=datetime.now(timezone.utc), request_id="r", event_id="e")
    out = audit_mod.bounded(record)
    assert len(json.dumps(out)) < audit_mod.MAX_EVENT_BYTES
    assert out["userAgent"].endswith(audit_mod.TRUNCATED) and len(out["errorMessage"]) == audit_mod.MAX_TEXT
    assert out["requestParameters"] is None and out["additionalEventData"]["omitted"] == ["requestParameters"]


async def test_an_arn_of_another_partition_is_refused_with_the_member_named():
    """The model's pattern admits aws-us-gov etc.; this API serves partition aws only, so such an ARN
    is refused before authorization (a Deny on arn:aws:...:workflow/prod-* cannot be sidestepped)."""
    client, _, service = await _client()
    try:
        for target, member in (("DeleteWorkflow", "WorkflowArn"), ("TagResource", "ResourceArn")):
            params = {member: PROD.replace("arn:aws:", "arn:aws-us-gov:")}
            if target == "TagResource":
                params["Tags"] = {"a": "b"}
            body = json.dumps(params).encode()
            resp = await client.post("/", data=body, headers=_signed(_url(client), target, body))
            payload = json.loads(await resp.read())
            assert resp.status == 400 and payload["__type"] == "ValidationException", payload
            assert [f["Name"] for f in payload["FieldList"]] == [member]
            assert "aws-us-gov" in payload["FieldList"][0]["Message"]
        assert service.calls == 0
    finally:
        await client.close()


async def test_a_signed_caller_is_throttled_only_after_its_signature_checks():
    """Knowing an access key id (not secret) must not let anyone spend its owner's rate."""
    client, _, service = await _client(rate_per_second=0.001, burst=2, unauthenticated_burst=100)
    try:
        bad = {**_signed(_url(client)), "Authorization": _signed(_url(client))["Authorization"][:-4] + "0000"}
        for _ in range(5):
            resp = await client.post("/", data=b"{}", headers=bad)
            assert resp.status == 403
        resp = await client.post("/", data=b"{}", headers=_signed(_url(client)))
        assert resp.status == 200 and service.calls == 1
    finally:
        await client.close()


async def test_a_number_too_long_to_convert_is_a_validation_error():
    """Found by the fuzz tier: Python refuses to convert integers of more than 4300 digits with a
    plain ValueError, which the decoder did not catch (a 500)."""
    client, _, service = await _client()
    try:
        body = b'{"MaxResults":' + b"9" * 5000 + b"}"
        resp = await client.post("/", data=body, headers=_signed(_url(client), body=body))
        payload = json.loads(await resp.read())
        assert (resp.status, payload["__type"], payload["Reason"]) == (400, "ValidationException", "cannotParse")
        assert service.calls == 0
    finally:
        await client.close()


async def test_a_signed_caller_is_not_held_back_by_failures_from_its_address():
    """Behind a load balancer many callers share an address: one caller's failures must not lock out the rest."""
    client, _, service = await _client(unauthenticated_rate_per_second=0.001, unauthenticated_burst=2)
    try:
        for _ in range(4):
            await client.post("/", data=b"{}")  # unsigned: 403, 403, then 429
        assert (await client.post("/", data=b"{}")).status == 429
        resp = await client.post("/", data=b"{}", headers=_signed(_url(client)))
        assert resp.status == 200 and service.calls == 1
        # bad signatures with this key from this address: its own bucket, then refused before reading
        bad = {**_signed(_url(client)), "Authorization": _signed(_url(client))["Authorization"][:-4] + "0000"}
        assert [(await client.post("/", data=b"{}", headers=bad)).status for _ in range(3)] == [403, 403, 429]
    finally:
        await client.close()


async def test_other_paths_and_methods_answer_in_the_aws_shape():
    client, _, service = await _client()
    try:
        for method, path, status in (("GET", "/", 405), ("POST", "/x", 404), ("DELETE", "/", 405)):
            resp = await client.request(method, path)
            payload = json.loads(await resp.read())
            assert resp.status == status and resp.content_type == "application/x-amz-json-1.0"
            assert (payload["__type"], payload["Reason"]) == ("ValidationException", "unknownOperation")
        assert (await client.get("/healthz")).status == 200
        assert service.calls == 0
    finally:
        await client.close()
