"""End to end on the deployed chart: the converted S3 pipeline example (examples/03-s3-pipeline,
written by the MWAA converter from a Python DAG) runs real Amazon provider operators in task
pods against the moto server on the node, as the workflow's own role.

  create_bucket -> put_object (key templated with {{ ds }}) -> wait_for_object (S3KeySensor)
  -> list_objects (S3ListOperator; its return value is XCom) -> write_manifest (the XCom, pulled
  in a template, written to a new object)

Then it shows where the tasks' credentials came from, with moto's request recorder: every task
called AssumeRoleWithWebIdentity for the workflow's role with its projected ServiceAccount token
(audience sts.amazonaws.com, subject the workflow's ServiceAccount; the API server's TokenReview
accepts it), and the S3 writes were signed with the temporary keys STS returned for that role.
No task pod carries a static AWS key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
EXAMPLE = Path(__file__).parents[2] / "examples" / "03-s3-pipeline"
MOTO = "http://192.0.2.2:5000"
ROLE = "arn:aws:iam::123456789012:role/updraft-s3-pipeline"
TASKS = ["create_bucket", "put_object", "wait_for_object", "list_objects", "write_manifest"]


def _moto(path: str, method: str = "GET") -> bytes:
    with urllib.request.urlopen(urllib.request.Request(MOTO + path, method=method), timeout=30) as r:
        return r.read()


def _recorded() -> list[dict[str, Any]]:
    """moto's recorded requests, bodies decoded."""
    out = []
    for line in _moto("/moto-api/recorder/download-recording").decode().splitlines():
        if line.strip():
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode(errors="replace")
            entry["body"] = body
            out.append(entry)
    return out


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _s3():
    import boto3

    # moto accepts any key; this client only reads the results back
    return boto3.client("s3", endpoint_url=MOTO, region_name="us-east-1",
                        aws_access_key_id="e2e-reader", aws_secret_access_key="e2e-reader")


async def test_converted_s3_pipeline_runs_as_the_workflow_role(api: object, namespace: str,
                                                                kubectl: Callable[..., str]) -> None:
    from kubernetes_asyncio import client

    from updraft.k8s.resources import Kube

    kube = Kube(api)
    bucket = f"updraft-e2e-{uuid.uuid4().hex[:10]}"
    kubectl("-n", namespace, "apply", "-k", str(EXAMPLE))
    _moto("/moto-api/recorder/reset-recording", "POST")
    _moto("/moto-api/recorder/start-recording", "POST")
    try:
        run_doc = {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "s3-e2e"},
                   "spec": {"workflowName": "s3-pipeline", "overrideParameters": {"bucket": bucket}}}
        deadline = time.monotonic() + 300
        while True:  # the first version may still be in the making
            wf = await kube.get("Workflow", "s3-pipeline", namespace)
            if (wf.get("status") or {}).get("latestVersion") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        await kube.create(run_doc, namespace)
        status: dict[str, Any] = {}
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = await kube.get("WorkflowRun", "s3-e2e", namespace)
            status = run.get("status") or {}
            if status.get("runState") in ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED"):
                break
            await asyncio.sleep(1)
    finally:
        _moto("/moto-api/recorder/stop-recording", "POST")
    assert status.get("runState") == "SUCCESS", json.dumps(status, indent=1)
    tasks = {t["taskId"]: t for t in status["taskInstances"]}
    assert {k: t["status"] for k, t in tasks.items()} == dict.fromkeys(TASKS, "SUCCESS")

    # the templated key used the run's logical date (a manual run's is its creation time), and the
    # manifest holds the listing (XCom)
    created = run["metadata"]["creationTimestamp"].replace("Z", "+00:00")
    ds = datetime.fromisoformat(created).strftime("%Y-%m-%d")
    data_key = f"raw/{ds}/data_{ds.replace('-', '')}.csv"
    s3 = _s3()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [f"manifests/{ds}.json", data_key]
    assert json.loads(s3.get_object(Bucket=bucket, Key=f"manifests/{ds}.json")["Body"].read()) == [data_key]
    assert s3.get_object(Bucket=bucket, Key=data_key)["Body"].read().decode().startswith("id,value\n1,")

    # every task assumed the workflow role with its own projected ServiceAccount token
    recorded = _recorded()
    assumes = [urllib.parse.parse_qs(r["body"]) for r in recorded if "Action=AssumeRoleWithWebIdentity" in r["body"]]
    ours = [a for a in assumes if a["RoleArn"] == [ROLE] and
            _claims(a["WebIdentityToken"][0])["sub"] == f"system:serviceaccount:{namespace}:updraft-wf-s3-pipeline"]
    assert len(ours) >= len(TASKS), f"{len(ours)} AssumeRoleWithWebIdentity calls for the role, {len(assumes)} in all"
    token = ours[-1]["WebIdentityToken"][0]
    claims = _claims(token)
    assert claims["aud"] == ["sts.amazonaws.com"]
    pods = {claims["kubernetes.io"]["pod"]["name"] for a in ours
            for claims in [_claims(a["WebIdentityToken"][0])]}
    assert {t["podName"] for t in tasks.values()} <= pods
    # the token is the cluster's own: the API server vouches for it (the pod still exists)
    review = await client.AuthenticationV1Api(api).create_token_review(client.V1TokenReview(
        spec=client.V1TokenReviewSpec(token=token, audiences=["sts.amazonaws.com"])))
    assert review.status.authenticated, review.status.error
    assert review.status.user.username == f"system:serviceaccount:{namespace}:updraft-wf-s3-pipeline"

    # the S3 writes were signed with temporary keys STS issued for that role
    sts_state = json.loads(_moto("/moto-api/data.json"))["sts"]["AssumedRole"]
    role_keys = {r["access_key_id"] for r in sts_state if r["role_arn"] == ROLE}
    writes = [r for r in recorded if r["method"] == "PUT" and bucket in r["url"] + r["headers"].get("Host", "")]
    assert writes, "no S3 PUT to the run's bucket was recorded"
    for w in writes:
        credential = w["headers"]["Authorization"].split("Credential=")[1].split("/")[0]
        assert credential.startswith("ASIA") and credential in role_keys, credential

    # and no task pod holds a static key: only the role and the token file
    for t in tasks.values():
        pod = await client.CoreV1Api(api).read_namespaced_pod(t["podName"], namespace)
        env = {e.name: e.value for e in pod.spec.containers[0].env}
        assert env["AWS_ROLE_ARN"] == ROLE and env["AWS_WEB_IDENTITY_TOKEN_FILE"]
        assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env
        assert pod.spec.service_account_name == "updraft-wf-s3-pipeline"
