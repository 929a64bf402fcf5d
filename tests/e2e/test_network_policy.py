"""The task pods' NetworkPolicy, enforced (issue 21): the local cluster runs kube-router's policy
controller (hack/cluster/up.sh), so what the operator writes for a workflow is what its pods get.

Two workflows are applied to the deployed operator (make deploy), which writes their
NetworkPolicies. Probe pods carrying a workflow's task-pod labels (the labels podspec gives every
task pod, which is what the policy selects) stand in for task pods: the runner image's Python
opening sockets says more about the network than an Airflow task could (busybox listens). From
workflow A's pod:
- DNS answers, the task API's port (on the operator pods) and the allowed egress (the moto
  stand-in for S3 on the node, local-values.yaml) are reached;
- workflow B's pod (listening on 443, a port A may use), the operator's metrics port and the API
  server (its Service address and the node address it listens on) are not (the metadata
  address has nothing behind it here: unit tests check its `except`).
Controls show each refusal is the policy's: a pod no policy selects reaches the API server and
an unselected listener on 443, and A's pod reaches that same unselected listener (A's egress
allows 443 anywhere except the API server and metadata addresses)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SYSTEM = "updraft-system"
NODE_IP, MOTO_PORT = "192.0.2.2", 5000
KUBERNETES_SVC = "10.96.0.1"
PROBE_IMAGE = "updraft.local/probe:1"  # busybox, root: the listeners
RUNNER_IMAGE = "updraft.local/runner:dev"  # Python, as task pods run it: the probes
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("open")
except OSError as e:
    print("closed", e)
"""
DEFINITION = """
{name}:
  schedule: None
  tasks:
    only: {{operator: airflow.providers.standard.operators.empty.EmptyOperator}}
"""


def _workflow(name: str) -> dict[str, Any]:
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/netpol", "triggerMode": "manual_only",
                     "definition": DEFINITION.format(name=name.replace("-", "_"))}}


def _pod(name: str, labels: dict[str, str], image: str, command: list[str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0, "automountServiceAccountToken": False,
                     "containers": [{"name": "probe", "image": image, "imagePullPolicy": "Never", "command": command}]}}


def _listener(name: str, labels: dict[str, str]) -> dict[str, Any]:
    serve = "busybox nc -ll -p 443 -e /bin/echo hi & busybox nc -ll -p 8080 -e /bin/echo hi & sleep 3600"
    return _pod(name, labels, PROBE_IMAGE, ["sh", "-c", serve])


def _prober(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return _pod(name, labels, RUNNER_IMAGE, ["python", "-c", "import time; time.sleep(3600)"])


def _task_labels(workflow: str) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "updraft", "updraft.dev/workflow": workflow}


@pytest.fixture
def cluster_ns(kubectl: Callable[..., str]) -> Iterator[str]:
    name = f"np-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def _apply(kubectl: Callable[..., str], ns: str, where: Path, *objects: dict[str, Any]) -> None:
    where.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))
    kubectl("-n", ns, "apply", "-f", str(where))


def test_a_task_pod_reaches_what_it_may_and_nothing_else(kubectl: Callable[..., str], cluster_ns: str,
                                                         tmp_path: Path) -> None:
    ns = cluster_ns
    a, b = "netpol-a", "netpol-b"
    _apply(kubectl, ns, tmp_path / "workflows.json", _workflow(a), _workflow(b))
    _apply(kubectl, ns, tmp_path / "pods.json",
           _prober("task-a", _task_labels(a)), _listener("task-b", _task_labels(b)),
           _listener("bystander", {"app": "bystander"}), _prober("control", {"app": "control"}))
    deadline = time.monotonic() + 120
    while True:
        policies = json.loads(kubectl("-n", ns, "get", "networkpolicy", "-o", "json"))["items"]
        if len(policies) == 2 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert sorted(p["metadata"]["name"] for p in policies) == ["updraft-wf-netpol-a", "updraft-wf-netpol-b"]
    kubectl("-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=90s")
    ip = {p["metadata"]["name"]: p["status"]["podIP"]
          for p in json.loads(kubectl("-n", ns, "get", "pods", "-o", "json"))["items"]}
    operator = json.loads(kubectl("-n", SYSTEM, "get", "pods", "-l", "app.kubernetes.io/component=operator",
                                  "-o", "json"))["items"][0]
    op_ip = operator["status"]["podIP"]
    op_env = {e["name"]: e.get("value") for e in operator["spec"]["containers"][0]["env"]}
    task_api_port, metrics_port = int(op_env["UPDRAFT_TASK_API_PORT"]), int(op_env["UPDRAFT_METRICS_PORT"])

    def reaches(pod: str, host: str, port: int) -> bool:
        return kubectl("-n", ns, "exec", pod, "--", "python", "-c", CONNECT, host, str(port)).startswith("open")

    # kube-router writes a new pod's chains on its watch events: wait until A's policy is in force
    # (a port no rule opens is refused), then every check below is made once
    deadline = time.monotonic() + 60
    while reaches("task-a", ip["bystander"], 8080):
        assert time.monotonic() < deadline, "workflow A's NetworkPolicy was not enforced within 60 s"
        time.sleep(2)

    # the controls: the paths exist, for a pod no policy selects
    assert reaches("control", KUBERNETES_SVC, 443)
    assert reaches("control", NODE_IP, 6443)
    assert reaches("control", ip["bystander"], 443)
    assert reaches("control", op_ip, metrics_port)
    assert reaches("control", ip["bystander"], 8080)

    # what a task pod may reach
    dns = kubectl("-n", ns, "exec", "task-a", "--", "python", "-c",
                  "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))")
    assert dns.strip() == KUBERNETES_SVC
    assert reaches("task-a", op_ip, task_api_port)  # the task API
    assert reaches("task-a", NODE_IP, MOTO_PORT)  # the allowed egress (local-values.yaml)
    assert reaches("task-a", ip["bystander"], 443)  # 443 anywhere, as the default egress says

    # and what it may not
    assert not reaches("task-a", ip["task-b"], 443)  # another workflow's pod (no ingress at all)
    assert not reaches("task-a", op_ip, metrics_port)  # the operator's metrics
    assert not reaches("task-a", KUBERNETES_SVC, 443)  # the API server, by its Service...
    assert not reaches("task-a", NODE_IP, 6443)  # ...and where it listens
