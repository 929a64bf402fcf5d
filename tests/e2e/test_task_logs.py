"""End to end on the deployed chart (logs.backend cloudwatch, against the moto server on the
node): task logs outlive their pods.

1. Through the chart's API (boto3): a workflow whose task lists a bucket runs to SUCCESS; the
   operator made its default group `/aws/mwaa-serverless/<workflow id>/`; GetTaskInstance names
   the stream; once the run's pods are deleted, that stream in CloudWatch Logs holds the task's
   own lines, tagged, and `updraft logs` reads them back through the API's logs endpoint saying
   it read CloudWatch.
2. A workflow whose pods cannot reach the Logs endpoint: the task is still SUCCESS and its
   `logStatus` is FAILED, with the reason.
3. A task OOM-killed by the node: its error holds the last lines of its pod log.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

SYSTEM = "updraft-system"
MOTO = "http://192.0.2.2:5000"
OPERATOR_DIR = Path(__file__).parents[2] / "operator"
FINAL = ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED")


def _aws(service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="e2e",
                        aws_secret_access_key="e2e")


def _messages(group: str, stream: str) -> list[str]:
    page = _aws("logs").get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    return [e["message"] for e in page["events"]]


async def _run_once(kube: Any, namespace: str, name: str, definition: str, **spec: Any) -> dict[str, Any]:
    """Workflow `name` (manual only) with `definition`; once it has a version, run `<name>-1` to a
    final state; the run's status."""
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
                       "spec": {"roleArn": "arn:aws:iam::123456789012:role/e2e", "triggerMode": "manual_only",
                                "definition": definition, **spec}}, namespace)
    deadline = time.monotonic() + 240
    while not ((await kube.get("Workflow", name, namespace)).get("status") or {}).get("latestVersion"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": f"{name}-1"},
                       "spec": {"workflowName": name}}, namespace)
    return await _settled(kube, namespace, f"{name}-1", deadline)


async def _settled(kube: Any, namespace: str, run: str, deadline: float) -> dict[str, Any]:
    """The run's status once it is final and every task that ran says what became of its log: the
    runner reports its outcome first and ships its log after, so `logStatus` comes a moment later."""
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = (await kube.get("WorkflowRun", run, namespace)).get("status") or {}
        if status.get("runState") in FINAL and all(t.get("logStatus") for t in status.get("taskInstances") or []
                                                   if t.get("startedAt")):
            break
        await asyncio.sleep(1)
    return status


async def test_a_tasks_log_outlives_its_pods_in_the_stream_get_task_instance_names(api: object, chart_api: Any) -> None:
    import boto3

    from updraft.k8s.resources import Kube
    from updraft.model import names

    kube = Kube(api)
    endpoint, region, key_id, secret = chart_api.endpoint, chart_api.region, chart_api.key_id, chart_api.secret
    bucket = f"updraft-logs-{uuid.uuid4().hex[:8]}"
    s3 = _aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="logs_e2e.yaml", Body=(
        f"logs_e2e:\n  schedule: None\n  tasks:\n    list_it: {{operator: S3ListOperator, bucket: {bucket}}}\n").encode())
    mwaa = boto3.client("mwaa-serverless", endpoint_url=endpoint, region_name=region, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, verify=chart_api.ca_file)
    arn = mwaa.create_workflow(Name=f"logs_e2e_{int(time.time())}", RoleArn="arn:aws:iam::123456789012:role/e2e",
                               DefinitionS3Location={"Bucket": bucket, "ObjectKey": "logs_e2e.yaml"},
                               TriggerMode="manual_only")["WorkflowArn"]
    try:
        workflow_id = arn.rsplit("/", 1)[1]
        group = names.default_log_group(workflow_id)
        deadline = time.monotonic() + 240
        while True:  # the operator may not have made the first version yet
            try:
                run_id = mwaa.start_workflow_run(WorkflowArn=arn)["RunId"]
                break
            except mwaa.exceptions.ConflictException:
                assert time.monotonic() < deadline
                await asyncio.sleep(1)
        while True:
            run = mwaa.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
            if run["RunState"] in FINAL or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        assert run["RunState"] == "SUCCESS", run
        task = mwaa.get_task_instance(WorkflowArn=arn, RunId=run_id, TaskInstanceId=f"{run_id}.list_it")
        stream = task["LogStream"]
        assert stream == f"workflow_id={workflow_id}/run_id={run_id}/task_id=list_it/attempt=1.log"

        # the operator made the default group and says so
        groups = _aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert [g["logGroupName"] for g in groups] == [group] and groups[0].get("retentionInDays")
        workflows = await kube.list("Workflow", None)
        mine = next(w for w in workflows if (w.get("status") or {}).get("arn") == arn)
        assert mine["status"]["logGroupName"] == group
        settled = await _settled(kube, mine["metadata"]["namespace"], run_id, time.monotonic() + 60)
        assert settled["taskInstances"][0]["logStatus"] == "SHIPPED", settled

        # after the run's pods are gone (the cleanup delay), the stream holds the task's lines
        while time.monotonic() < deadline + 120:
            if not await kube.list("Pod", mine["metadata"]["namespace"], names.run_selector(run_id)):
                break
            await asyncio.sleep(2)
        assert not await kube.list("Pod", mine["metadata"]["namespace"], names.run_selector(run_id))
        lines = _messages(group, stream)
        assert any(f"Getting the list of files from bucket: {bucket}" in m for m in lines), lines
        assert all(f"run={run_id} task=list_it attempt=1 - " in m for m in lines), lines
        assert any("finished: success" in m for m in lines)

        # and the CLI reads them back through the API, saying from where
        env = {**os.environ, "PYTHONPATH": str(OPERATOR_DIR), "UPDRAFT_ENDPOINT_URL": endpoint, "AWS_REGION": region,
               "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
               "AWS_CA_BUNDLE": chart_api.ca_file}
        env.pop("AWS_ENDPOINT_URL", None)
        cli = subprocess.run([sys.executable, "-m", "updraft.cli", "logs", run_id, "list_it"], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
        assert cli.returncode == 0, cli.stderr
        assert f"# list_it attempt 1: cloudwatch {group}{stream}" in cli.stderr
        assert cli.stdout.splitlines() == lines
    finally:
        mwaa.delete_workflow(WorkflowArn=arn)


async def test_an_unreachable_logs_endpoint_leaves_the_task_successful(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube

    # nothing listens there, and the NetworkPolicy lets nothing through
    status = await _run_once(Kube(api), namespace, "nologs", "nologs:\n  tasks:\n    t: {operator: EmptyOperator}\n",
                             environment={"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "http://192.0.2.2:9"})
    assert status.get("runState") == "SUCCESS", status
    task = status["taskInstances"][0]
    assert (task["status"], task["logStatus"]) == ("SUCCESS", "FAILED"), task
    assert task["logStatusReason"], task


async def test_an_attempt_killed_for_memory_gets_the_tail_of_its_log_in_its_error(api: object, namespace: str) -> None:
    """A task that outgrows its memory limit is OOM-killed by the node before its runner can say
    anything: the operator copies the last lines of its pod log into the task's error. The
    allocation is real: a templated field renders a 3 GB string (task pods are limited to 1 GiB)."""
    from updraft.k8s.resources import Kube

    definition = ("oom:\n  default_args: {retries: 0}\n  tasks:\n"
                  "    hog: {operator: S3ListOperator, bucket: any, prefix: \"{{ 'x' * 3000000000 }}\"}\n")
    status = await _run_once(Kube(api), namespace, "oom", definition)
    assert status.get("runState") == "FAILED", status
    error = status["taskInstances"][0].get("errorMessage") or ""
    head, _, tail = error.partition("\n--- the last lines of its log ---\n")
    assert head == "the task ran out of memory (OOMKilled)", error
    # the runner's own line from just before the task was built, tagged like every line
    assert "starting (pod oom-1-hog-" in tail and "task=hog attempt=1" in tail, error
