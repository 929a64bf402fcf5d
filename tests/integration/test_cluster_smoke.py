"""The local cluster behaves like a real one in the ways Updraft relies on."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

PROBE_IMAGE = os.environ.get("UPDRAFT_PROBE_IMAGE", "updraft.local/probe:1")


def _pod(name: str, script: str, **spec: object) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": PROBE_IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", script]}],
            **spec,
        },
    }


async def _run_to_completion(api: object, namespace: str, body: dict, timeout: float = 90) -> tuple[str, str]:
    from kubernetes_asyncio import client

    core = client.CoreV1Api(api)
    await core.create_namespaced_pod(namespace, body)
    name = body["metadata"]["name"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pod = await core.read_namespaced_pod(name, namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            break
        assert loop.time() < deadline, f"pod {name} still {pod.status.phase} after {timeout}s"
        await asyncio.sleep(0.5)
    return pod.status.phase, await core.read_namespaced_pod_log(name, namespace)


async def test_node_is_ready(api: object) -> None:
    from kubernetes_asyncio import client

    # The real node only: KWOK's fake node (label type=kwok) is Unknown whenever kwok is stopped,
    # and its name sorts first.
    nodes = (await client.CoreV1Api(api).list_node(label_selector="type!=kwok")).items
    assert nodes, "the cluster has no real node"
    for node in nodes:
        ready = {c.type: c.status for c in node.status.conditions}
        assert ready.get("Ready") == "True", (node.metadata.name, node.status.conditions)


async def test_pod_runs_to_completion_and_its_logs_are_readable(api: object, namespace: str) -> None:
    phase, logs = await _run_to_completion(api, namespace, _pod("hello", "echo hello-from-pod"))
    assert phase == "Succeeded"
    assert logs.strip() == "hello-from-pod"


async def test_failing_pod_reports_exit_code(api: object, namespace: str) -> None:
    from kubernetes_asyncio import client

    phase, _ = await _run_to_completion(api, namespace, _pod("fails", "exit 3"))
    assert phase == "Failed"
    pod = await client.CoreV1Api(api).read_namespaced_pod("fails", namespace)
    assert pod.status.container_statuses[0].state.terminated.exit_code == 3


async def test_projected_token_for_sts_audience(api: object, namespace: str) -> None:
    from kubernetes_asyncio import client

    core = client.CoreV1Api(api)
    await core.create_namespaced_service_account(namespace, {"metadata": {"name": "wf"}})
    token_dir = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
    body = _pod(
        "token",
        f"cat {token_dir}/token",
        serviceAccountName="wf",
        automountServiceAccountToken=False,
        volumes=[{"name": "aws-token", "projected": {"sources": [
            {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 3600, "path": "token"}}]}}],
    )
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "aws-token", "mountPath": token_dir}]
    phase, logs = await _run_to_completion(api, namespace, body)
    assert phase == "Succeeded", logs
    payload = logs.strip().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == ["sts.amazonaws.com"]
    assert claims["sub"] == f"system:serviceaccount:{namespace}:wf"
    # no Kubernetes API token is mounted when automount is off
    phase, logs = await _run_to_completion(api, namespace, _pod(
        "noapi", "ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1 || echo none",
        serviceAccountName="wf", automountServiceAccountToken=False))
    assert "none" in logs


async def test_network_policy_is_accepted(api: object, namespace: str) -> None:
    from kubernetes_asyncio import client

    net = client.NetworkingV1Api(api)
    policy = {
        "metadata": {"name": "deny-ingress"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                 "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]},
    }
    await net.create_namespaced_network_policy(namespace, policy)
    got = await net.read_namespaced_network_policy("deny-ingress", namespace)
    assert got.spec.policy_types == ["Ingress", "Egress"]


async def test_new_namespace_gets_root_ca(api: object, namespace: str) -> None:
    from kubernetes_asyncio import client

    core = client.CoreV1Api(api)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        cms = [c.metadata.name for c in (await core.list_namespaced_config_map(namespace)).items]
        if "kube-root-ca.crt" in cms:
            break
        assert loop.time() < deadline, f"kube-root-ca.crt missing in {namespace}: {cms}"
        await asyncio.sleep(0.5)


async def test_pods_resolve_service_names(api: object, namespace: str) -> None:
    phase, logs = await _run_to_completion(
        api, namespace, _pod("dns", "nslookup kubernetes.default.svc.cluster.local && nslookup kube-dns.kube-system.svc.cluster.local"))
    assert phase == "Succeeded", logs
    assert "10.96.0.1" in logs


def test_probe_image_target_names_an_image_on_the_node() -> None:
    out = subprocess.run(["make", "-s", "cluster-probe-image"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == PROBE_IMAGE
