"""End to end through the Helm install (make deploy): boto3 talks to the chart's API Service over
HTTPS, verifying its certificate with the CA from the chart's Secret (AWS_CA_BUNDLE's role), with
a key from the chart's credentials Secret; the definition comes from the moto S3 server on the
node; the deployed operator runs the workflow in real runner pods to SUCCESS; and both the API's
and the operator's /metrics show the run."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SYSTEM = "updraft-system"
MOTO = "http://192.0.2.2:5000"
DEFINITION = """
api_e2e:
  schedule: None
  tasks:
    first: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    second: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [first]}
"""


def _scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def _moved(before: dict[str, float], after: dict[str, float], prefix: str, contains: str) -> float:
    """How much the series starting with `prefix` (and containing `contains`) grew in all."""
    def total(m: dict[str, float]) -> float:
        return sum(v for k, v in m.items() if k.startswith(prefix) and contains in k)
    return total(after) - total(before)


async def _deployment(kube: Any, name: str) -> dict[str, Any]:
    return await kube._call("GET", f"/apis/apps/v1/namespaces/{SYSTEM}/deployments/{name}")


async def test_boto3_through_the_chart_runs_a_workflow(api: object, chart_api: Any) -> None:
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    deploy = await _deployment(kube, "updraft-api")
    assert deploy["status"].get("availableReplicas", 0) >= 1
    a = chart_api
    await _drive(kube, a.endpoint, a.ca_file, a.region, a.namespace, a.key_id, a.keys)


async def _drive(kube: Any, endpoint: str, ca_file: str, region: str, namespace: str, key_id: str,
                 keys: dict[str, Any]) -> None:
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=MOTO, region_name=region, aws_access_key_id="e2e", aws_secret_access_key="e2e")
    s3.create_bucket(Bucket="updraft-e2e-defs")
    s3.put_object(Bucket="updraft-e2e-defs", Key="api_e2e.yaml", Body=DEFINITION.encode())
    mwaa = boto3.client("mwaa-serverless", endpoint_url=endpoint, region_name=region, aws_access_key_id=key_id,
                        aws_secret_access_key=keys[key_id]["secretAccessKey"], config=Config(retries={"max_attempts": 2}),
                        verify=ca_file)

    api_pod = (await kube.list("Pod", SYSTEM, labels={"app.kubernetes.io/component": "api"}))[0]
    api_url = f"http://{api_pod['status']['podIP']}:9090/metrics"
    op_svc = await kube._call("GET", f"/api/v1/namespaces/{SYSTEM}/services/updraft-operator")
    metrics_port = next(p["port"] for p in op_svc["spec"]["ports"] if p["name"] == "metrics")
    op_url = f"http://{op_svc['spec']['clusterIP']}:{metrics_port}/metrics"
    before_api, before_op = _scrape(api_url), _scrape(op_url)

    arn = mwaa.create_workflow(Name=f"api_e2e_{int(time.time())}", RoleArn="arn:aws:iam::123456789012:role/e2e",
                               DefinitionS3Location={"Bucket": "updraft-e2e-defs", "ObjectKey": "api_e2e.yaml"},
                               TriggerMode="manual_only")["WorkflowArn"]
    try:
        run_id = mwaa.start_workflow_run(WorkflowArn=arn)["RunId"]
        deadline = time.monotonic() + 240
        while True:
            run = mwaa.get_workflow_run(WorkflowArn=arn, RunId=run_id)["RunDetail"]
            if run["RunState"] in ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED") or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        tasks = mwaa.list_task_instances(WorkflowArn=arn, RunId=run_id)["TaskInstances"]
        assert run["RunState"] == "SUCCESS", (run, tasks)
        assert {t["Status"] for t in tasks} == {"SUCCESS"} and len(tasks) == 2

        # the metrics moved: the API counted the calls, the operator the run and its task attempts
        after_api, after_op = _scrape(api_url), _scrape(op_url)
        started = 'updraft_api_requests_total{code="OK",operation="StartWorkflowRun"}'
        assert after_api.get(started, 0) - before_api.get(started, 0) == 1
        assert _moved(before_op, after_op, "updraft_runs_finished_total{", 'state="SUCCESS"') >= 1
        assert _moved(before_op, after_op, "updraft_task_attempts_total{", 'state="SUCCESS"') >= 2
        assert _moved(before_op, after_op, "updraft_task_duration_seconds_count{", "") >= 2
        assert _moved(before_op, after_op, "updraft_run_duration_seconds_count{", "") >= 1
        assert _moved(before_op, after_op, "updraft_pod_start_latency_seconds_count", "") >= 2
    finally:
        mwaa.delete_workflow(WorkflowArn=arn)
        assert namespace  # the workflow lived in the API's namespace
