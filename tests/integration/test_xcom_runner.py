"""XCom between tasks through the operator's task API, with the real runner and real Airflow
operators against a real S3 API (moto server): create bucket -> put object with a templated key
-> list (its return value is XCom) -> write the listed keys into a new object via
`{{ ti.xcom_pull(task_ids='list_objects') | tojson }}`. Each task runs as the runner would in its
pod, over HTTPS to the task API, verifying it with the CA file a task pod gets
(UPDRAFT_TASK_API_CA_FILE); the XCom lives in the run's ConfigMap; a wrong token is refused."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from operator_harness import _free_port as free_port
from updraft.definition import validate

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/certs.py
from certs import make_ca, write_ca, write_server_cert  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.airflow, pytest.mark.timeout(180)]

DEFINITION = """
xcom_pipeline:
  params: {bucket: updraft-xcom}
  tasks:
    create_bucket:
      operator: airflow.providers.amazon.aws.operators.s3.S3CreateBucketOperator
      bucket_name: '{{ params.bucket }}'
    put_object:
      operator: airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator
      s3_bucket: '{{ params.bucket }}'
      s3_key: 'raw/{{ ds }}/data_{{ ds_nodash }}.csv'
      data: 'id,value'
      dependencies: [create_bucket]
    list_objects:
      operator: airflow.providers.amazon.aws.operators.s3.S3ListOperator
      bucket: '{{ params.bucket }}'
      prefix: 'raw/{{ ds }}/'
      dependencies: [put_object]
    write_manifest:
      operator: airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator
      s3_bucket: '{{ params.bucket }}'
      s3_key: 'manifests/{{ ds }}.json'
      data: "{{ ti.xcom_pull(task_ids='list_objects') | tojson }}"
      dependencies: [list_objects]
"""


async def test_xcom_flows_between_tasks(api: object, namespace: str, moto_s3: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from updraft import tls

    from updraft.k8s.resources import Kube
    from updraft.runner.execute import run_task
    from updraft.runner.inputs import TaskInputs
    from updraft.taskapi import server
    from updraft.model.names import pod_name
    from updraft.taskapi.tokens import Attempt, token

    kube = Kube(api)
    key = b"test-key" * 4
    port = free_port()
    ca = make_ca()
    crt, tls_key = write_server_cert(ca, tmp_path / "tls")
    monkeypatch.setenv("UPDRAFT_TASK_API_CA_FILE", str(write_ca(ca, tmp_path / "ca.crt")))  # as in a task pod
    runner = await server.start(kube, key, port, host="127.0.0.1", ssl_context=tls.server_context(str(crt), str(tls_key)))
    url = f"https://localhost:{port}"
    try:
        created = await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
                                     "metadata": {"name": "x-1"}, "spec": {"workflowName": "xcom_pipeline"}}, namespace)
        uid = created.body["metadata"]["uid"]
        graph = validate(DEFINITION).graph
        assert graph is not None
        logical = datetime(2025, 7, 1, tzinfo=timezone.utc)
        for task_id in graph.tasks:
            inputs = TaskInputs(workflow="xcom_pipeline", run_id="x-1", task_id=task_id, attempt=1,
                                logical_date=logical, definition=graph.normalized, namespace=namespace,
                                task_api_url=url,
                                token=token(key, Attempt(namespace, "x-1", task_id, 1, uid, pod_name("x-1", task_id, 1))))
            result = await asyncio.to_thread(run_task, inputs)
            assert result.state == "success", (task_id, result.error)
        s3 = boto3.client("s3")
        body = s3.get_object(Bucket="updraft-xcom", Key="manifests/2025-07-01.json")["Body"].read()
        assert json.loads(body) == ["raw/2025-07-01/data_20250701.csv"]
        cm = await kube.get("ConfigMap", "x-1-xcom", namespace)
        assert json.loads(cm["data"]["list_objects.return_value"]) == ["raw/2025-07-01/data_20250701.csv"]
        assert cm["metadata"]["ownerReferences"][0]["kind"] == "WorkflowRun"

        # a forged token, or pushing as another task, is refused
        from updraft.runner.xcom import TaskApiClient, XComError

        forged = TaskApiClient(url, namespace, "x-1", "list_objects", 1, "0" * 64)
        with pytest.raises(XComError, match="401"):
            await asyncio.to_thread(forged.pull, "list_objects")
        good = TaskApiClient(url, namespace, "x-1", "put_object", 1,
                             token(key, Attempt(namespace, "x-1", "put_object", 1, uid, pod_name("x-1", "put_object", 1))))
        assert await asyncio.to_thread(good.pull, "list_objects") == ["raw/2025-07-01/data_20250701.csv"]
        good.task_id = "list_objects"  # claim another task's identity with this token
        with pytest.raises(XComError, match="401|403"):
            await asyncio.to_thread(good.push, "return_value", "tampered")
    finally:
        await runner.cleanup()
