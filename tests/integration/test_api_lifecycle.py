"""The MWAA Serverless API on the local cluster, driven by an unmodified boto3 client and the AWS
CLI: `updraft api serve` runs as a process (SigV4 keys from a credentials file), the real
operator runs the workflows (busybox stand-in tasks), definitions come from a moto S3 server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from operator_harness import OperatorProcess, scrape
from updraft.api.child import ApiChild

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/etl"
ADMIN = ("AKIAADMIN0000000001", "admin-secret")
READER = ("AKIAREADER000000001", "reader-secret")
ARN_PATTERN = r"arn:aws:airflow-serverless:us-east-1:123456789012:workflow/Daily_ETL-[a-zA-Z0-9]{10}"

ETL_V1 = """
daily_etl:
  schedule: None
  tasks:
    ok_extract: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    ok_load: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_extract]}
"""
ETL_V2 = ETL_V1 + """    ok_report: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_load]}
"""
SLOW = """
slow:
  schedule: None
  tasks:
    slow_task: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""
CREDENTIALS = {
    ADMIN[0]: {"secretAccessKey": ADMIN[1], "principal": f"arn:aws:iam::{ACCOUNT}:user/admin", "fullAccess": True},
    READER[0]: {"secretAccessKey": READER[1], "principal": f"arn:aws:iam::{ACCOUNT}:user/reader", "policies": [{
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["airflow-serverless:Get*", "airflow-serverless:List*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}}},
            {"Effect": "Allow", "Action": "airflow-serverless:ListWorkflows", "Resource": "*"},
        ]}]},
}


class ApiProcess(ApiChild):
    """The API of this checkout beside the test's operator, its S3 endpoint moto's."""

    def __init__(self, kubeconfig: str, namespace: str, tmp: Path, s3_url: str, rate_limit: float = 200,
                 burst: int = 400) -> None:
        creds = tmp / "credentials.json"
        creds.write_text(json.dumps(CREDENTIALS))
        super().__init__(kubeconfig=kubeconfig, namespace=namespace, region=REGION, account_id=ACCOUNT,
                         credentials=creds, audit=tmp / "api-audit.jsonl", log=tmp / "api.log",
                         rate_limit=rate_limit, burst=burst, extra_env={"AWS_ENDPOINT_URL": s3_url})

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def api_server(moto_s3: str, operator: OperatorProcess, kubeconfig: str, namespace: str, tmp_path: Path) -> Any:
    server = ApiProcess(kubeconfig, namespace, tmp_path, moto_s3)
    yield server
    server.stop()
    print(f"--- api.log ---\n{server.log.read_text()[-4000:]}")


def client(server: ApiProcess, key: tuple[str, str] = ADMIN) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("mwaa-serverless", endpoint_url=server.url, region_name=REGION, aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], config=Config(retries={"max_attempts": 1}))


def s3_put(bucket: str, key: str, text: str) -> str | None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket) if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]] else None
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return None


def poll(fn: Any, until: Any, timeout: float = 120, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {value!r}")
        time.sleep(0.5)


def error_code(exc: Any) -> str:
    return exc.value.response["Error"]["Code"]


async def test_boto3_drives_the_whole_life_cycle(api_server: ApiProcess, api: Any, namespace: str) -> None:
    from botocore.exceptions import ClientError

    from updraft.k8s.resources import Kube
    from updraft.model.names import pod_name

    s3_put("defs", "etl/v1.yaml", ETL_V1)
    s3_put("defs", "etl/v2.yaml", ETL_V2)
    s3_put("defs", "slow.yaml", SLOW)
    mwaa = client(api_server)

    # create, idempotently
    request = dict(Name="Daily_ETL", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "etl/v1.yaml"},
                   RoleArn=ROLE, Tags={"team": "data"}, TriggerMode="manual_only", ClientToken="create-1",
                   Environment={"Variables": {"STAGE": "test", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/other"}})
    created = mwaa.create_workflow(**request)
    arn, v1 = created["WorkflowArn"], created["WorkflowVersion"]
    assert re.fullmatch(ARN_PATTERN, arn) and re.fullmatch(r"[a-z0-9]{32}", v1)
    assert created["IsLatestVersion"] is True and created["WorkflowStatus"] == "READY"
    again = mwaa.create_workflow(**request)
    assert (again["WorkflowArn"], again["WorkflowVersion"]) == (arn, v1)
    with pytest.raises(ClientError) as e:
        mwaa.create_workflow(**{**request, "Description": "changed"})
    assert error_code(e) == "ConflictException" and "ClientToken" in str(e.value)
    with pytest.raises(ClientError) as e:
        mwaa.create_workflow(**{**request, "ClientToken": "create-2"})
    assert error_code(e) == "ConflictException" and "already exists" in str(e.value)
    with pytest.raises(ClientError) as e:  # the same token for another name is another request
        mwaa.create_workflow(**{**request, "Name": "other_name"})
    assert error_code(e) == "ConflictException" and "create-1" in str(e.value) and arn in str(e.value)

    # a broken definition changes nothing and names the problem
    s3_put("defs", "broken.yaml", "broken:\n  tasks:\n    t1: {operator: os.system}\n")
    with pytest.raises(ClientError) as e:
        mwaa.create_workflow(Name="broken", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "broken.yaml"},
                             RoleArn=ROLE)
    assert error_code(e) == "ValidationException" and "os.system" in str(e.value)
    with pytest.raises(ClientError) as e:
        mwaa.create_workflow(Name="missing", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "nope.yaml"},
                             RoleArn=ROLE)
    assert error_code(e) == "ValidationException" and "NoSuchKey" in str(e.value)

    slow = mwaa.create_workflow(Name="slow", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "slow.yaml"},
                                RoleArn=ROLE, TriggerMode="manual_only")["WorkflowArn"]
    mwaa.create_workflow(Name="third", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "slow.yaml"}, RoleArn=ROLE)

    # get and list (paginated with the real paginator)
    got = mwaa.get_workflow(WorkflowArn=arn)
    assert (got["Name"], got["RoleArn"], got["WorkflowVersion"], got["TriggerMode"]) == ("Daily_ETL", ROLE, v1, "manual_only")
    assert got["DefinitionS3Location"] == {"Bucket": "defs", "ObjectKey": "etl/v1.yaml"}
    assert "ok_extract" in got["WorkflowDefinition"]
    pages = list(mwaa.get_paginator("list_workflows").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3
    assert sorted(w["Name"] for p in pages for w in p["Workflows"]) == ["Daily_ETL", "slow", "third"]
    with pytest.raises(ClientError) as e:
        mwaa.list_workflows(MaxResults=1, NextToken=pages[0]["NextToken"][:-3] + "xyz")
    assert error_code(e) == "ValidationException"

    # update -> a new version; the versions list knows which is latest
    updated = mwaa.update_workflow(WorkflowArn=arn, DefinitionS3Location={"Bucket": "defs", "ObjectKey": "etl/v2.yaml"},
                                   RoleArn=ROLE, Description="three tasks")
    v2 = updated["WorkflowVersion"]
    assert v2 != v1
    versions = poll(lambda: mwaa.list_workflow_versions(WorkflowArn=arn)["WorkflowVersions"],
                    lambda vs: len(vs) == 2, what="two versions")
    assert {v["WorkflowVersion"]: v["IsLatestVersion"] for v in versions} == {v1: False, v2: True}
    assert mwaa.get_workflow(WorkflowArn=arn, WorkflowVersion=v1)["WorkflowVersion"] == v1
    assert mwaa.get_workflow(WorkflowArn=arn)["Description"] == "three tasks"

    # tags
    mwaa.tag_resource(ResourceArn=arn, Tags={"owner": "ana"})
    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "data", "owner": "ana"}
    mwaa.untag_resource(ResourceArn=arn, TagKeys=["owner"])
    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "data"}

    # a run to SUCCESS, idempotent on its ClientToken, with its task instances
    run_id = mwaa.start_workflow_run(WorkflowArn=arn, ClientToken="run-1", OverrideParameters={"day": "monday"})["RunId"]
    assert mwaa.start_workflow_run(WorkflowArn=arn, ClientToken="run-1", OverrideParameters={"day": "monday"})["RunId"] == run_id
    with pytest.raises(ClientError) as e:
        mwaa.start_workflow_run(WorkflowArn=arn, ClientToken="run-1", OverrideParameters={"day": "friday"})
    assert error_code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:  # ...and for a run of another workflow
        mwaa.start_workflow_run(WorkflowArn=slow, ClientToken="run-1", OverrideParameters={"day": "monday"})
    assert error_code(e) == "ConflictException" and run_id in str(e.value)
    run = poll(lambda: mwaa.get_workflow_run(WorkflowArn=arn, RunId=run_id),
               lambda r: r["RunDetail"]["RunState"] in ("SUCCESS", "FAILED"), what="run to finish")
    assert run["RunDetail"]["RunState"] == "SUCCESS", run
    assert run["WorkflowVersion"] == v2 and run["RunType"] == "ON_DEMAND"
    assert run["OverrideParameters"] == {"day": "monday"}
    tasks = mwaa.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
    assert sorted(t["TaskInstanceId"] for t in tasks) == sorted(f"{run_id}.{t}" for t in ("ok_extract", "ok_load", "ok_report"))
    assert {t["Status"] for t in tasks} == {"SUCCESS"} and {t["OperatorName"] for t in tasks} == {"EmptyOperator"}
    one = mwaa.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId=f"{run_id}.ok_load")
    assert (one["TaskId"], one["Status"], one["AttemptNumber"]) == ("ok_load", "SUCCESS", 1)
    assert one["LogStream"].endswith("task_id=ok_load/attempt=1.log")
    pod = await Kube(api).get("Pod", pod_name(run_id, "ok_load", 1), namespace)
    pod_env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert pod_env["STAGE"] == "test" and pod_env["AWS_ROLE_ARN"] == ROLE  # the workflow's variables, not over identity
    create_event = next(e for e in api_server.events() if e["eventName"] == "CreateWorkflow")
    assert create_event["requestParameters"]["environment"] == {"variables": {
        "STAGE": "HIDDEN_DUE_TO_SECURITY_REASONS", "AWS_ROLE_ARN": "HIDDEN_DUE_TO_SECURITY_REASONS"}}
    assert create_event["resources"][0]["ARN"] == arn
    runs = mwaa.list_workflow_runs(WorkflowArn=arn)["WorkflowRuns"]
    assert [r["RunId"] for r in runs] == [run_id]
    assert mwaa.list_workflow_runs(WorkflowArn=arn, WorkflowVersion=v1)["WorkflowRuns"] == []

    # stop a long run
    long_id = mwaa.start_workflow_run(WorkflowArn=slow)["RunId"]
    poll(lambda: mwaa.get_workflow_run(WorkflowArn=slow, RunId=long_id)["RunDetail"]["RunState"],
         lambda s: s == "RUNNING", what="RUNNING")
    assert mwaa.stop_workflow_run(WorkflowArn=slow, RunId=long_id)["Status"] == "STOPPING"
    poll(lambda: mwaa.get_workflow_run(WorkflowArn=slow, RunId=long_id)["RunDetail"]["RunState"],
         lambda s: s == "STOPPED", what="STOPPED")

    # errors carry the model's codes
    missing = arn[:-10] + "0000000000"
    for call in (lambda: mwaa.get_workflow(WorkflowArn=missing),
                 lambda: mwaa.get_workflow_run(WorkflowArn=arn, RunId="no-such-run"),
                 lambda: mwaa.get_workflow(WorkflowArn=arn, WorkflowVersion="0" * 32)):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        mwaa.get_workflow(WorkflowArn="not-an-arn")
    assert error_code(e) == "ValidationException" and "WorkflowArn" in str(e.value)

    # delete
    assert mwaa.delete_workflow(WorkflowArn=slow)["WorkflowArn"] == slow
    poll(lambda: [w["Name"] for w in mwaa.list_workflows()["Workflows"]], lambda names: "slow" not in names,
         what="slow deleted")

    # the metrics counted it all
    metrics = scrape(api_server.metrics_port)
    assert metrics['updraft_api_requests_total{code="OK",operation="CreateWorkflow"}'] >= 3
    assert metrics['updraft_api_requests_total{code="ConflictException",operation="CreateWorkflow"}'] == 3


async def test_unsigned_and_unauthorized_calls_are_refused_and_audited(api_server: ApiProcess) -> None:
    from botocore.exceptions import ClientError

    s3_put("defs", "etl/v1.yaml", ETL_V1)
    admin, reader = client(api_server), client(api_server, READER)
    arn = admin.create_workflow(Name="Daily_ETL", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "etl/v1.yaml"},
                                RoleArn=ROLE, Tags={"team": "data"})["WorkflowArn"]
    other = admin.create_workflow(Name="other", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "etl/v1.yaml"},
                                  RoleArn=ROLE, Tags={"team": "web"})["WorkflowArn"]

    # DefinitionS3Location.VersionId pins one version of the object, even after it is overwritten
    import boto3

    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket="defs", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="defs", Key="pinned.yaml", Body=ETL_V1.encode())["VersionId"]
    s3.put_object(Bucket="defs", Key="pinned.yaml", Body=ETL_V2.encode())
    pinned = admin.create_workflow(Name="pinned", RoleArn=ROLE, Tags={"team": "data"},
                                   DefinitionS3Location={"Bucket": "defs", "ObjectKey": "pinned.yaml", "VersionId": first})
    got = admin.get_workflow(WorkflowArn=pinned["WorkflowArn"])
    assert "ok_load" in got["WorkflowDefinition"] and "ok_report" not in got["WorkflowDefinition"]
    assert got["DefinitionS3Location"]["VersionId"] == first

    # unsigned
    req = urllib.request.Request(api_server.url + "/", data=b"{}", method="POST",  # noqa: S310
                                 headers={"X-Amz-Target": "AmazonMWAAServerless.ListWorkflows",
                                          "Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(req, timeout=5)  # noqa: S310
    assert http.value.code == 403
    assert json.loads(http.value.read())["__type"] == "MissingAuthenticationTokenException"

    # a wrong secret, an unknown key
    with pytest.raises(ClientError) as e:
        client(api_server, (ADMIN[0], "wrong")).list_workflows()
    assert error_code(e) == "InvalidSignatureException"
    with pytest.raises(ClientError) as e:
        client(api_server, ("AKIANOBODY000000000", "x")).list_workflows()
    assert error_code(e) == "UnrecognizedClientException"

    # ABAC: the reader sees team=data workflows only, and may not change anything
    assert reader.get_workflow(WorkflowArn=arn)["Name"] == "Daily_ETL"
    assert len(reader.list_workflows()["Workflows"]) == 3
    with pytest.raises(ClientError) as e:
        reader.get_workflow(WorkflowArn=other)
    assert error_code(e) == "AccessDeniedException"
    assert (f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: airflow-serverless:GetWorkflow "
            f"on resource: {other}") in str(e.value)
    with pytest.raises(ClientError) as e:
        reader.delete_workflow(WorkflowArn=arn)
    assert error_code(e) == "AccessDeniedException"
    assert admin.get_workflow(WorkflowArn=arn)["WorkflowStatus"] == "READY"

    # every call is in the audit trail, the refused ones with their error code
    events = api_server.events()
    by_error = {(e["eventName"], e.get("errorCode")) for e in events}
    assert ("CreateWorkflow", None) in by_error
    assert ("ListWorkflows", "MissingAuthenticationTokenException") in by_error
    assert ("DeleteWorkflow", "AccessDeniedException") in by_error
    denied = next(e for e in events if e["eventName"] == "DeleteWorkflow")
    assert denied["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/reader"
    assert denied["requestParameters"] == {"workflowArn": arn}
    assert denied["eventSource"] == "airflow-serverless.amazonaws.com" and denied["awsRegion"] == REGION


async def test_the_aws_cli_works_unchanged(api_server: ApiProcess) -> None:
    s3_put("defs", "etl/v1.yaml", ETL_V1)
    aws = str(Path(sys.executable).with_name("aws"))
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}  # that one points at moto
    env.update({"AWS_ACCESS_KEY_ID": ADMIN[0], "AWS_SECRET_ACCESS_KEY": ADMIN[1], "AWS_DEFAULT_REGION": REGION,
                "AWS_MAX_ATTEMPTS": "1"})

    def cli(*args: str) -> dict[str, Any]:
        out = subprocess.run([aws, "mwaa-serverless", "--endpoint-url", api_server.url, "--output", "json", *args],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    created = cli("create-workflow", "--name", "cli-flow", "--role-arn", ROLE,
                  "--definition-s3-location", "Bucket=defs,ObjectKey=etl/v1.yaml")
    arn = created["WorkflowArn"]
    assert cli("get-workflow", "--workflow-arn", arn)["Name"] == "cli-flow"
    assert [w["Name"] for w in cli("list-workflows")["Workflows"]] == ["cli-flow"]
    run_id = cli("start-workflow-run", "--workflow-arn", arn)["RunId"]
    assert cli("get-workflow-run", "--workflow-arn", arn, "--run-id", run_id)["RunId"] == run_id
    bad = subprocess.run([aws, "mwaa-serverless", "--endpoint-url", api_server.url, "get-workflow", "--workflow-arn",
                          arn[:-10] + "0000000000"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "ResourceNotFoundException" in bad.stderr
