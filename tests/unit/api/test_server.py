"""The HTTP layer of the API with a stand-in service (the real one needs Kubernetes; the
integration tests run it): throttling, unexpected failures and slow operations, as botocore sees
them. Requests are signed by botocore itself."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from updraft.api.audit import AuditLog
from updraft.api.credentials import Principal
from updraft.api.server import ApiServer, ServerConfig

KEY, SECRET = "AKIATEST000000000001", "secret"
ARN = "arn:aws:iam::123456789012:user/tester"


class StandInService:
    def __init__(self, behaviour: str = "ok", tags: dict[str, str] | None = None) -> None:
        self.behaviour, self.tags = behaviour, tags or {}

    async def resource_of(self, operation: str, params: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return "*", self.tags

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.behaviour == "boom":
            raise RuntimeError("secret internals /etc/passwd")
        if self.behaviour == "slow":
            await asyncio.sleep(5)
        return {"Workflows": []}


def _signed(url: str, target: str = "ListWorkflows", body: bytes = b"{}") -> dict[str, str]:
    request = AWSRequest(method="POST", url=url + "/", data=body,
                         headers={"X-Amz-Target": f"AmazonMWAAServerless.{target}",
                                  "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(KEY, SECRET), "airflow-serverless", "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def _client(service: StandInService, policies: tuple[dict[str, Any], ...] | None = None,
                  **config: Any) -> tuple[TestClient, io.StringIO]:
    audit = io.StringIO()
    server = ApiServer(service, ServerConfig(  # type: ignore[arg-type]
        region="us-east-1", account_id="123456789012",
        credentials={KEY: Principal(access_key_id=KEY, secret_access_key=SECRET, arn=ARN, policies=policies)},
        clock=lambda: datetime.now(timezone.utc), **config), AuditLog(audit))
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    return client, audit


async def _post(client: TestClient, target: str = "ListWorkflows") -> tuple[int, dict[str, Any]]:
    url = str(client.make_url("")).rstrip("/")
    resp = await client.post("/", data=b"{}", headers=_signed(url, target))
    return resp.status, json.loads(await resp.read())


async def test_a_signed_call_is_answered_and_audited():
    client, audit = await _client(StandInService())
    try:
        assert await _post(client) == (200, {"Workflows": []})
        event = json.loads(audit.getvalue().splitlines()[0])
        assert (event["eventName"], event["userIdentity"]["arn"], event.get("errorCode")) == ("ListWorkflows", ARN, None)
    finally:
        await client.close()


async def test_over_the_rate_a_caller_gets_429_with_retry_after():
    client, _ = await _client(StandInService(), rate_per_second=0.01, burst=2)
    try:
        statuses = [(await _post(client))[0] for _ in range(3)]
        assert statuses[:2] == [200, 200]
        status, body = await _post(client)
        assert status == 429 and body["__type"] == "ThrottlingException" and body["RetryAfterSeconds"] >= 1
    finally:
        await client.close()


async def test_an_unexpected_failure_is_a_500_without_internals():
    client, audit = await _client(StandInService("boom"))
    try:
        status, body = await _post(client)
        assert status == 500 and body["__type"] == "InternalServerException"
        assert "passwd" not in json.dumps(body) and "Traceback" not in json.dumps(body)
        assert json.loads(audit.getvalue())["errorCode"] == "InternalServerException"
    finally:
        await client.close()


async def test_a_slow_operation_times_out_with_the_model_code():
    client, _ = await _client(StandInService("slow"), operation_timeout_s=0.2)
    try:
        status, body = await _post(client)
        assert status == 504 and body["__type"] == "OperationTimeoutException"
    finally:
        await client.close()


@pytest.mark.parametrize("target", ["DropEverything", "ListWorkflows"])
async def test_bad_requests_are_refused_before_the_service_runs(target):
    client, _ = await _client(StandInService("boom"))
    try:
        url = str(client.make_url("")).rstrip("/")
        body = b"[]" if target == "ListWorkflows" else b"{}"
        resp = await client.post("/", data=body, headers=_signed(url, target, body))
        payload = json.loads(await resp.read())
        assert resp.status == 400 and payload["__type"] == "ValidationException"
        assert payload["Reason"] == ("unknownOperation" if target == "DropEverything" else "cannotParse")
    finally:
        await client.close()


def _policy(*statements: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "airflow-serverless:*", "Resource": "*"}, *statements]},)


@pytest.mark.parametrize("condition, tags, expected", [
    # every condition key the policy loader accepts reaches the evaluation from the real request
    ({"Bool": {"aws:SecureTransport": "false"}}, {}, 403),  # plain HTTP here
    ({"Bool": {"aws:SecureTransport": "true"}}, {}, 200),
    ({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}, {}, 403),
    ({"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}, {}, 200),
    ({"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, {}, 403),
    ({"StringEquals": {"aws:PrincipalType": "User", "aws:username": "tester"}}, {}, 403),
    ({"StringEquals": {"aws:ResourceTag/team": "data"}}, {"team": "data"}, 403),
    ({"StringEquals": {"aws:ResourceTag/team": "data"}}, {"team": "web"}, 200),
])
async def test_deny_conditions_see_the_request(condition: dict[str, Any], tags: dict[str, str], expected: int):
    deny = {"Effect": "Deny", "Action": "airflow-serverless:ListWorkflows", "Resource": "*", "Condition": condition}
    client, audit = await _client(StandInService(tags=tags), policies=_policy(deny))
    try:
        status, body = await _post(client)
        assert status == expected, body
        if expected == 403:
            assert body["__type"] == "AccessDeniedException" and "explicit deny" in body["message"]
            assert json.loads(audit.getvalue())["errorCode"] == "AccessDeniedException"
    finally:
        await client.close()


@pytest.mark.parametrize("trust, source_ip, secure_deny", [(False, "127.0.0.1", True), (True, "203.0.113.7", False)])
async def test_proxy_headers_count_only_when_trusted(trust: bool, source_ip: str, secure_deny: bool):
    """A caller may send X-Forwarded-For/-Proto itself: only a configured proxy's are believed."""
    deny_plain_http = {"Effect": "Deny", "Action": "airflow-serverless:*", "Resource": "*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    client, audit = await _client(StandInService(), policies=_policy(deny_plain_http), trust_proxy_headers=trust)
    try:
        url = str(client.make_url("")).rstrip("/")
        headers = {**_signed(url), "X-Forwarded-For": "203.0.113.7, 10.0.0.1", "X-Forwarded-Proto": "https"}
        resp = await client.post("/", data=b"{}", headers=headers)
        assert (resp.status == 403) is secure_deny
        assert json.loads(audit.getvalue().splitlines()[-1])["sourceIPAddress"] == source_ip
    finally:
        await client.close()
