"""The fuzz tier for the MWAA Serverless API (issue 21): requests generated from the botocore
`mwaa-serverless` model's input shapes, then mutated (member types, sizes, nesting depth,
encodings, headers, signatures), sent over HTTP to the aiohttp app in this process.

The properties: no answer is a 500, nothing is logged with a traceback, every answer is JSON,
and every refusal is an AWS error: one the model names, or one of the SigV4 errors every AWS JSON
service answers (MissingAuthenticationToken, IncompleteSignature, UnrecognizedClient,
InvalidSignature), each with the HTTP status AWS uses for it (413 for a body over the limit).

The real `Service` runs behind the server, over a stand-in Kube (tests/unit/fakekube.py) holding one
workflow with one run, and a stand-in S3 client returning one valid definition: the properties are
about how the API treats hostile input, which needs no apiserver (the unit tier has none). Seeded
(UPDRAFT_FUZZ_SEED); UPDRAFT_FUZZ_EXAMPLES sets the number of requests per property."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import event, given, seed
from hypothesis import strategies as st

from fuzz_support import FUZZ, RAW_BODIES, SEED, encode, mutated, valid_params
from fakekube import FakeKube
from updraft import arns
from updraft.api import errors, model
from updraft.api.audit import AuditLog
from updraft.api.credentials import Principal
from updraft.api.pagination import PageTokens
from updraft.api.server import RUNNER_OPTIONS, ApiServer, ServerConfig
from updraft.api.service import Service, ServiceConfig

REGION, ACCOUNT, NS = "us-east-1", "123456789012", "fuzz"
ADMIN = ("AKIAFUZZADMIN0000001", "admin-secret")
READER = ("AKIAFUZZREADER000001", "reader-secret")
AWS_CODES = {s.name for s in model.service_model().error_shapes} | {
    "MissingAuthenticationTokenException", "IncompleteSignatureException", "UnrecognizedClientException",
    "InvalidSignatureException"}
DEFINITION = b"""
etl:
  schedule: None
  tasks:
    a: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""


class StandInS3:
    """get_object answers one valid definition (a stand-in: S3 is not what is fuzzed here)."""

    def get_object(self, **_: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(DEFINITION)}


class Harness:
    """One event loop, one server, reused by every example (Hypothesis tests are synchronous)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.kube = FakeKube()
        wf = self.kube.put({"kind": "Workflow", "apiVersion": "updraft.dev/v1alpha1", "metadata": {"name": "etl"},
                            "spec": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/etl", "tags": {"team": "data"}},
                            "status": {"latestVersion": "a" * 32}}, NS)
        self.kube.put({"kind": "WorkflowRun", "apiVersion": "updraft.dev/v1alpha1", "metadata": {"name": "etl-run-1"},
                       "spec": {"workflowName": "etl"}, "status": {"runState": "RUNNING", "taskInstances": [
                           {"taskId": "a", "taskInstanceId": "ti-1", "status": "RUNNING"}]}}, NS)
        self.arn = arns.arn_of(wf, REGION, ACCOUNT)
        self.known = {"WorkflowArn": [self.arn, self.arn.replace("arn:aws:", "arn:aws-us-gov:")],
                      "ResourceArn": [self.arn], "RunId": ["etl-run-1", "../etl", "ETL"], "TaskInstanceId": ["ti-1"],
                      "NextToken": ["not-a-token", "eyJ4IjoxfQ=="]}
        service = Service(self.kube, ServiceConfig(namespace=NS, region=REGION, account_id=ACCOUNT,  # type: ignore[arg-type]
                                                   settle_seconds=0.0),
                          PageTokens(b"k" * 32), s3_client_factory=StandInS3, clock=lambda: datetime.now(timezone.utc))
        reader_policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["airflow-serverless:Get*", "airflow-serverless:List*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}}}]}
        self.audit = io.StringIO()
        self.server = ApiServer(service, ServerConfig(
            region=REGION, account_id=ACCOUNT, rate_per_second=1e6, burst=10**6,
            unauthenticated_rate_per_second=1e6, unauthenticated_burst=10**6,
            credentials={ADMIN[0]: Principal(ADMIN[0], ADMIN[1], f"arn:aws:iam::{ACCOUNT}:user/admin", None),
                         READER[0]: Principal(READER[0], READER[1], f"arn:aws:iam::{ACCOUNT}:user/reader",
                                              (reader_policy,))},
            clock=lambda: datetime.now(timezone.utc)), AuditLog(self.audit))
        test_server = TestServer(self.server.app(), loop=self.loop)
        self.loop.run_until_complete(test_server.start_server(loop=self.loop, **RUNNER_OPTIONS))
        self.client = TestClient(test_server, loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        self.url = str(self.client.make_url("")).rstrip("/")

    def post(self, body: bytes, headers: dict[str, str], method: str = "POST", path: str = "/") -> tuple[int, bytes]:
        async def go() -> tuple[int, bytes]:
            resp = await self.client.request(method, path, data=body, headers=headers)
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


HEADER_MUTATIONS = ["none", "unsigned", "tampered-signature", "unknown-key", "wrong-secret", "wrong-region",
                    "old-date", "future-date", "security-token", "garbage-authorization", "unsigned-target",
                    "body-changed", "no-target", "unknown-target", "huge-target", "odd-content-type",
                    "content-encoding", "huge-user-agent", "declared-too-long"]


def sign(url: str, body: bytes, target: str | None, key: tuple[str, str], region: str = REGION,
         when: datetime | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-amz-json-1.0", **(extra or {})}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    auth = SigV4Auth(Credentials(*key), "airflow-serverless", region)
    if when is not None:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        auth._modify_request_before_signing = lambda r: None  # keep the X-Amz-Date set below
        request.headers["X-Amz-Date"] = request.context["timestamp"]
    auth.add_auth(request)
    return dict(request.headers.items())


def headers_for(url: str, body: bytes, operation: str, how: str, key: tuple[str, str]) -> tuple[bytes, dict[str, str]]:
    target = f"AmazonMWAAServerless.{operation}"
    if how == "none":
        return body, sign(url, body, target, key)
    if how == "unsigned":
        return body, {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    if how == "tampered-signature":
        h = sign(url, body, target, key)
        h["Authorization"] = h["Authorization"][:-6] + "000000"
        return body, h
    if how == "unknown-key":
        return body, sign(url, body, target, ("AKIAUNKNOWN000000001", "x"))
    if how == "wrong-secret":
        return body, sign(url, body, target, (key[0], "not-the-secret"))
    if how == "wrong-region":
        return body, sign(url, body, target, key, region="eu-west-1")
    if how in ("old-date", "future-date"):
        from datetime import timedelta
        shift = timedelta(minutes=-30 if how == "old-date" else 30)
        return body, sign(url, body, target, key, when=datetime.now(timezone.utc) + shift)
    if how == "security-token":
        return body, sign(url, body, target, key, extra={"X-Amz-Security-Token": "token"})
    if how == "garbage-authorization":
        return body, {"X-Amz-Target": target, "Authorization": "AWS4-HMAC-SHA256 Credential=/,,, Signature",
                      "X-Amz-Date": "yesterday"}
    if how == "unsigned-target":
        h = sign(url, body, None, key)
        h["X-Amz-Target"] = target
        return body, h
    if how == "body-changed":
        return body + b" ", sign(url, body, target, key)
    if how == "no-target":
        return body, sign(url, body, None, key)
    if how == "unknown-target":
        return body, sign(url, body, "AmazonMWAAServerless.DropEverything", key)
    if how == "huge-target":
        return body, sign(url, body, "AmazonMWAAServerless." + "A" * 6000, key)
    if how == "odd-content-type":
        return body, sign(url, body, target, key, extra={"Content-Type": "text/plain; charset=utf-16"})
    if how == "content-encoding":
        return body, sign(url, body, target, key, extra={"Content-Encoding": "gzip"})
    if how == "huge-user-agent":
        return body, sign(url, body, target, key, extra={"User-Agent": "\u00e9" * 4000})
    if how == "declared-too-long":
        h = sign(url, body, target, key)
        h["Content-Length"] = str(10**9)
        return body, h
    raise AssertionError(how)


def check_answer(status: int, raw: bytes, caplog: pytest.LogCaptureFixture, what: Any) -> None:
    assert status != 500, what
    event(f"{status} {json.loads(raw).get('__type', '') if raw.startswith(b'{') else ''}")  # --hypothesis-show-statistics
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, (what, [r.getMessage() for r in tracebacks])
    payload = json.loads(raw)
    if status == 200:
        assert isinstance(payload, dict), what
        return
    code = payload.get("__type")
    assert code in AWS_CODES, (status, payload, what)
    expected = 413 if (code == "ValidationException" and status == 413) else errors.STATUS[code]
    assert status == expected, (status, payload, what)
    assert isinstance(payload.get("message"), str) and "Traceback" not in payload["message"], what


OPERATIONS = st.sampled_from(sorted(model.operation_names()))


@seed(SEED)
@FUZZ
@given(data=st.data())
def test_generated_and_mutated_requests_get_aws_answers(harness: Harness, caplog: pytest.LogCaptureFixture,
                                                        data: st.DataObject) -> None:
    caplog.set_level(logging.WARNING)
    caplog.clear()
    operation = data.draw(OPERATIONS, label="operation")
    params = data.draw(valid_params(operation, harness.known), label="params")
    if data.draw(st.booleans(), label="mutate"):
        params = data.draw(mutated(params), label="mutated")
    body = encode(params)
    how = data.draw(st.sampled_from(HEADER_MUTATIONS), label="headers")
    key = data.draw(st.sampled_from([ADMIN, READER]), label="key")
    body, headers = headers_for(harness.url, body, operation, how, key)
    status, raw = harness.post(body, headers)
    check_answer(status, raw, caplog, (operation, how, body[:300]))


PATHS = st.sampled_from(["/", "/", "/", "//", "/x", "/%2e%2e/", "/?Action=ListWorkflows", "/healthz/x", "/" + "a" * 3000])
METHODS = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"])


@seed(SEED)
@FUZZ
@given(body=RAW_BODIES, operation=OPERATIONS, how=st.sampled_from(["none", "unsigned", "declared-too-long"]),
       method=METHODS, path=PATHS)
def test_raw_bodies_methods_and_paths_get_aws_answers(harness: Harness, caplog: pytest.LogCaptureFixture, body: bytes,
                                                      operation: str, how: str, method: str, path: str) -> None:
    caplog.set_level(logging.WARNING)
    caplog.clear()
    body, headers = headers_for(harness.url, body, operation, how, ADMIN)
    status, raw = harness.post(body, headers, method=method, path=path)
    if status in (404, 405):  # no such route or method: still the AWS shape
        assert json.loads(raw)["__type"] == "ValidationException", (method, path)
        event(f"{status} no such route or method")
        return
    check_answer(status, raw, caplog, (operation, how, method, path, body[:200]))
