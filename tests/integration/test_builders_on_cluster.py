"""The pure builders' objects meet the real API server: a task pod passes PodSecurity 'restricted'
admission and runs; the isolation objects are accepted."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest

from updraft.definition.model import Task
from updraft.isolation import Owner, TaskApi, network_policy, service_account
from updraft.podspec.build import PodInputs, build_pod

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]
PROBE_IMAGE = os.environ.get("UPDRAFT_PROBE_IMAGE", "updraft.local/probe:1")


async def test_task_pod_is_admitted_as_restricted_and_runs(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    await kube.patch("Namespace", namespace, None, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}})
    # a stand-in owner: ownerReferences must name a real object of that uid
    wf = (await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "wf"},
                             "spec": {"definition": "x", "roleArn": "arn:aws:iam::123456789012:role/r"}},
                            namespace)).body
    run = (await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "run"},
                              "spec": {"workflowName": "wf"}}, namespace)).body
    owner = Owner("wf", wf["metadata"]["uid"])
    await kube.create(service_account("wf", namespace, "arn:aws:iam::123456789012:role/r", owner), namespace)
    await kube.create(network_policy("wf", namespace, owner, TaskApi("updraft-system", {"app": "op"}, 8081)), namespace)
    pod = build_pod(PodInputs(
        namespace=namespace, workflow="wf", run_name="run", run_uid=run["metadata"]["uid"], version="a" * 32,
        task=Task("t", "op", execution_timeout=timedelta(seconds=60)), attempt=1, image=PROBE_IMAGE,
        image_pull_policy="Never", service_account="updraft-wf-wf", role_arn="arn:aws:iam::123456789012:role/r",
        region="us-east-1", logical_date=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    pod["spec"]["containers"][0]["command"] = ["sh", "-c", "id -u; test -s $AWS_WEB_IDENTITY_TOKEN_FILE && echo token; "
                                               "touch /tmp/ok && echo tmp-writable; touch /x 2>/dev/null || echo ro-root"]
    created = await kube.create(pod, namespace)
    assert not created.existed
    again = await kube.create(pod, namespace)
    assert again.existed  # creating the same attempt twice is harmless
    name = pod["metadata"]["name"]
    from kubernetes_asyncio import client

    core = client.CoreV1Api(api)
    for _ in range(120):
        phase = (await core.read_namespaced_pod(name, namespace)).status.phase
        if phase in ("Succeeded", "Failed"):
            break
        await asyncio.sleep(0.5)
    logs = await core.read_namespaced_pod_log(name, namespace)
    assert phase == "Succeeded", logs
    assert logs.split() == ["50000", "token", "tmp-writable", "ro-root"]
