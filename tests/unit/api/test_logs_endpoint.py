"""The logs endpoint over HTTP, signed by botocore: the live pod log while an attempt runs, the
CloudWatch stream (a moto server) once it is over, which source and why, NextToken to follow, and
the caller's policy checked as GetTaskInstance. Kubernetes is the tests' FakeKube (with a pod log
it hands out): the property is the choice of source and the authorization, not the apiserver."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import boto3
from aiohttp.test_utils import TestClient, TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from updraft import arns
from updraft.api.audit import AuditLog
from updraft.api.credentials import Principal
from updraft.api.logs import PATH, TaskLogs
from updraft.api.pagination import PageTokens
from updraft.api.server import ApiServer, ServerConfig
from updraft.api.service import Service, ServiceConfig
from updraft.model import names
from updraft.model.states import LogBackend

from tests.unit.fakekube import FakeKube

KEY, SECRET, USER = "AKIATEST000000000001", "secret", "arn:aws:iam::123456789012:user/tester"
NS = "ns"


class KubeWithPodLogs(FakeKube):
    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[str, str] = {}

    async def pod_log(self, name: str, namespace: str, limit_bytes: int = 0) -> str:
        return self.logs[name]


def _setup(kube: KubeWithPodLogs, status: str, log_status: str | None) -> tuple[str, str]:
    wf = kube.put({"kind": "Workflow", "metadata": {"name": "etl"}, "spec": {"roleArn": "r"}}, NS)
    run = {"kind": "WorkflowRun", "metadata": {"name": "etl-m-1"}, "spec": {"workflowName": "etl"},
           "status": {"taskInstances": [{"taskInstanceId": "etl-m-1.load", "taskId": "load", "attemptNumber": 1,
                                         "status": status, **({"logStatus": log_status} if log_status else {})}]}}
    kube.put(run, NS)
    return arns.arn_of(wf, "us-east-1", "123456789012"), arns.workflow_id_of(wf)


def _pod(kube: KubeWithPodLogs, text: str) -> None:
    kube.put({"kind": "Pod", "metadata": {"name": "etl-m-1-load-1", "labels": {
        **names.run_selector("etl-m-1"), names.LABEL_ATTEMPT: "1"}, "annotations": {names.ANNOTATION_TASK_ID: "load"}}},
        NS)
    kube.logs["etl-m-1-load-1"] = text


async def _client(kube: KubeWithPodLogs, endpoint: str | None, policies: Any = None) -> TestClient:
    service = Service(kube, ServiceConfig(namespace=NS, region="us-east-1", account_id="123456789012"),  # type: ignore[arg-type]
                      PageTokens(b"k" * 32), s3_client_factory=lambda: None, clock=lambda: datetime.now(timezone.utc))
    factory = (lambda: boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")) if endpoint else None
    server = ApiServer(service, ServerConfig(
        region="us-east-1", account_id="123456789012",
        credentials={KEY: Principal(access_key_id=KEY, secret_access_key=SECRET, arn=USER, policies=policies)},
        clock=lambda: datetime.now(timezone.utc)), AuditLog(io.StringIO()),
        TaskLogs(service, LogBackend.CLOUDWATCH, factory))
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    return client


async def _get(client: TestClient, **query: Any) -> tuple[int, dict[str, Any]]:
    url = str(client.make_url(PATH)) + "?" + urlencode(query)
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(KEY, SECRET), "airflow-serverless", "us-east-1").add_auth(request)
    resp = await client.get(PATH + "?" + urlencode(query), headers=dict(request.headers.items()))
    return resp.status, json.loads(await resp.read())


async def test_a_running_attempt_is_read_from_its_pod_and_followed() -> None:
    kube = KubeWithPodLogs()
    arn, _ = _setup(kube, "RUNNING", None)
    _pod(kube, "one\ntwo\n")
    client = await _client(kube, None)
    try:
        status, got = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load")
        assert status == 200 and got["Source"] == "pod" and "running" in got["Reason"]
        assert got["Lines"] == ["one", "two"] and got["Final"] is False
        kube.logs["etl-m-1-load-1"] += "three\n"
        _, more = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load",
                             NextToken=got["NextToken"])
        assert more["Lines"] == ["three"]
    finally:
        await client.close()


async def test_a_finished_attempt_is_read_from_its_stream_without_repeating_lines(moto_s3: str) -> None:
    kube = KubeWithPodLogs()
    arn, wid = _setup(kube, "SUCCESS", "SHIPPED")
    logs = boto3.client("logs", endpoint_url=moto_s3, region_name="us-east-1")
    group, stream = names.default_log_group(wid), names.log_stream(wid, "etl-m-1", "load", 1)
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(datetime.now(timezone.utc).timestamp() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(["one", "two", "three"])])
    client = await _client(kube, moto_s3)
    try:
        status, got = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load")
        assert status == 200, got
        assert (got["Source"], got["Lines"], got["LogGroup"], got["LogStream"], got["Final"]) == (
            "cloudwatch", ["one", "two", "three"], group, stream, True)
        _, after_pod = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load",
                                  NextToken="2:")  # a follower that read two lines from the pod
        assert after_pod["Lines"] == ["three"]
        _, later = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load",
                              NextToken=got["NextToken"])
        assert later["Lines"] == []
    finally:
        await client.close()


async def test_the_callers_policy_is_checked_as_get_task_instance_and_input_named() -> None:
    kube = KubeWithPodLogs()
    arn, _ = _setup(kube, "RUNNING", None)
    _pod(kube, "secret line\n")
    only_others = ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "airflow-serverless:GetTaskInstance",
         "Resource": "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/other-*"}]},)
    client = await _client(kube, None, policies=only_others)
    try:
        status, got = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load")
        assert status == 403 and got["__type"] == "AccessDeniedException" and "GetTaskInstance" in got["message"]
        status, got = await _get(client, WorkflowArn=arn, RunId="etl-m-1", TaskInstanceId="etl-m-1.load",
                                 Attempt="zero")
        assert status == 400 and "Attempt" in json.dumps(got)
    finally:
        await client.close()


async def test_an_unsigned_request_is_refused() -> None:
    kube = KubeWithPodLogs()
    client = await _client(kube, None)
    try:
        resp = await client.get(PATH + "?RunId=x")
        assert resp.status in (400, 403) and "message" in json.loads(await resp.read())
    finally:
        await client.close()
