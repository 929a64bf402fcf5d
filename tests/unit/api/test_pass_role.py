"""iam:PassRole (issue 21): CreateWorkflow and UpdateWorkflow give a workflow a role, so, as in AWS,
the caller needs iam:PassRole on that RoleArn; airflow-serverless:* alone is not enough.

In-process server over a stand-in service (the decision is made before the service runs)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from updraft.api import model, policy
from updraft.api.audit import AuditLog
from updraft.api.credentials import Principal
from updraft.api.server import ApiServer, ServerConfig

KEY, SECRET = "AKIATEST000000000001", "secret"
USER = "arn:aws:iam::123456789012:user/tester"
ETL_ROLE = "arn:aws:iam::123456789012:role/etl"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/admin"
WORKFLOW = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/etl-abcdef1234"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def resource_of(self, operation: str, params: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return params.get("WorkflowArn") or "*", {}

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        return {"WorkflowArn": WORKFLOW}


def _body(operation: str, role: str) -> dict[str, Any]:
    body: dict[str, Any] = {"DefinitionS3Location": {"Bucket": "defs", "ObjectKey": "etl.yaml"}, "RoleArn": role}
    body.update({"Name": "etl"} if operation == "CreateWorkflow" else {"WorkflowArn": WORKFLOW})
    assert model.check_input(operation, body) == []
    return body


async def _call(policies: tuple[dict[str, Any], ...] | None, operation: str, role: str) -> tuple[int, dict[str, Any], list[str]]:
    service = Recorder()
    server = ApiServer(service, ServerConfig(  # type: ignore[arg-type]
        region="us-east-1", account_id="123456789012",
        credentials={KEY: Principal(access_key_id=KEY, secret_access_key=SECRET, arn=USER, policies=policies)},
        clock=lambda: datetime.now(timezone.utc)), AuditLog(io.StringIO()))
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    try:
        data = json.dumps(_body(operation, role)).encode()
        request = AWSRequest(method="POST", url=str(client.make_url("/")), data=data,
                             headers={"X-Amz-Target": f"AmazonMWAAServerless.{operation}",
                                      "Content-Type": "application/x-amz-json-1.0"})
        SigV4Auth(Credentials(KEY, SECRET), "airflow-serverless", "us-east-1").add_auth(request)
        resp = await client.post("/", data=data, headers=dict(request.headers.items()))
        return resp.status, json.loads(await resp.read()), service.calls
    finally:
        await client.close()


ALL_WORKFLOW_ACTIONS = {"Effect": "Allow", "Action": "airflow-serverless:*", "Resource": "*"}
PASS_ETL = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/etl",
            "Condition": {"StringEquals": {"iam:PassedToService": policy.PASSED_TO_SERVICE}}}


@pytest.mark.parametrize("operation", ["CreateWorkflow", "UpdateWorkflow"])
async def test_a_role_needs_pass_role_on_it(operation: str):
    only_workflows = ({"Version": "2012-10-17", "Statement": [ALL_WORKFLOW_ACTIONS]},)
    status, body, calls = await _call(only_workflows, operation, ETL_ROLE)
    assert (status, body["__type"], calls) == (403, "AccessDeniedException", [])
    assert body["message"] == (f"User: {USER} is not authorized to perform: iam:PassRole on resource: {ETL_ROLE} "
                               "because no identity-based policy allows the iam:PassRole action")

    with_pass = ({"Version": "2012-10-17", "Statement": [ALL_WORKFLOW_ACTIONS, PASS_ETL]},)
    assert (await _call(with_pass, operation, ETL_ROLE))[0] == 200
    status, body, calls = await _call(with_pass, operation, ADMIN_ROLE)  # another role: refused
    assert (status, body["__type"], calls) == (403, "AccessDeniedException", [])


async def test_full_access_may_pass_any_role_and_an_explicit_deny_wins():
    assert (await _call(None, "CreateWorkflow", ADMIN_ROLE))[0] == 200
    deny_admin = {"Effect": "Deny", "Action": "iam:PassRole", "Resource": ADMIN_ROLE}
    policies = ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, deny_admin]},)
    status, body, _ = await _call(policies, "CreateWorkflow", ADMIN_ROLE)
    assert status == 403 and "explicit deny" in body["message"]
    assert (await _call(policies, "CreateWorkflow", ETL_ROLE))[0] == 200


def test_pass_role_policies_load():
    policy.check_policy({"Version": "2012-10-17", "Statement": [PASS_ETL]}, actions=["CreateWorkflow"])
