"""Run the real operator (`updraft operator run`) as a process against the local cluster, with
the busybox probe image standing in for the runner: a task's id says what its pod does
(ok*: exit 0, fail*: exit 1, slow*: sleep 600, nap*: sleep 6).

The process runs under the chart's own RBAC, never as admin: `OperatorProcess.start` makes a
ServiceAccount in the test's namespace, binds it to a ClusterRole with the rules of the chart's
template (charts/updraft/templates/operator-rbac.yaml, parsed here, so a rule the chart lacks
fails the integration tests too) and the leader-election Role in the operator's namespace, and
hands the operator a kubeconfig holding that ServiceAccount's token."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from updraft.api.child import free_port

CHART_RBAC = Path(__file__).parents[2] / "charts" / "updraft" / "templates" / "operator-rbac.yaml"
OPERATOR_SA = "updraft-it-operator"
_RBAC_USERS: dict[str, int] = {}  # namespace -> operator processes using its ServiceAccount's RBAC

STAND_IN = ("echo task=$UPDRAFT_TASK_ID attempt=$UPDRAFT_ATTEMPT; case $UPDRAFT_TASK_ID in "
            "fail*) exit 1;; slow*) sleep 600;; nap*) sleep 6;; esac")


_free_port = free_port  # the tests' name for it


def scrape(port: int) -> dict[str, float]:
    """The operator's /metrics as {'name{labels}': value}."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:  # noqa: S310
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def chart_rules() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chart's operator rules at cluster scope (its `updraft.operatorRules` block plus what the
    ClusterRole adds), and the leader-election Role's rules: read from the template itself."""
    text = CHART_RBAC.read_text()
    block = re.search(r'\{\{-? define "updraft.operatorRules" -?\}\}(.*?)\{\{-? end -?\}\}', text, re.S)
    assert block is not None, f"{CHART_RBAC}: no updraft.operatorRules block"
    rules = list(yaml.safe_load(block.group(1)))
    # the ClusterRole's own rules (kopf lists namespaces, discovers CRDs), and the leader Role's:
    # the template's plain-YAML rule lines outside the define block
    rest = text[block.end():]
    extra = [yaml.safe_load(m.group(0))[0] for m in re.finditer(
        r"^- apiGroups: \[[^\]]*\]\n  resources: \[[^\]]*\]\n  verbs: \[[^\]]*\]$", rest, re.M)]
    leader = [r for r in extra if r["resources"] == ["leases"]]
    assert leader and len(extra) == 3, f"{CHART_RBAC}: unexpected ClusterRole/leader rules {extra}"
    return rules + [r for r in extra if r not in leader], leader


async def _service_account_kubeconfig(admin: str, namespace: str, operator_namespace: str, out: Path) -> None:
    """A ServiceAccount with the chart's RBAC, and a kubeconfig file with its token at `out`."""
    from kubernetes_asyncio import client
    from kubernetes_asyncio.client.exceptions import ApiException

    from updraft.k8s.resources import connect

    async def ensure(create: Any, replace: Any, body: dict[str, Any], namespace: str | None = None) -> None:
        """Create, or replace what an earlier test left (the chart may have changed since)."""
        ns = () if namespace is None else (namespace,)
        try:
            await create(*ns, body)
        except ApiException as e:
            if e.status != 409:
                raise
            if replace is not None:
                await replace(body["metadata"]["name"], *ns, body)

    rules, leader = chart_rules()
    api = await connect(admin)
    try:
        core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
        subject = [{"kind": "ServiceAccount", "name": OPERATOR_SA, "namespace": namespace}]
        await ensure(core.create_namespaced_service_account, None, {"metadata": {"name": OPERATOR_SA}}, namespace)
        name = f"{OPERATOR_SA}-{namespace}"
        await ensure(rbac.create_cluster_role, rbac.replace_cluster_role, {"metadata": {"name": name}, "rules": rules})
        await ensure(rbac.create_cluster_role_binding, rbac.replace_cluster_role_binding, {
            "metadata": {"name": name}, "subjects": subject,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}})
        try:
            await core.read_namespace(operator_namespace)
        except ApiException:
            await ensure(core.create_namespace, None, {"metadata": {"name": operator_namespace}})
        await ensure(rbac.create_namespaced_role, rbac.replace_namespaced_role,
                     {"metadata": {"name": name}, "rules": leader}, operator_namespace)
        await ensure(rbac.create_namespaced_role_binding, rbac.replace_namespaced_role_binding,
                     {"metadata": {"name": name}, "subjects": subject,
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}},
                     operator_namespace)
        token = await core.create_namespaced_service_account_token(
            OPERATOR_SA, namespace, {"spec": {"expirationSeconds": 7200}})
    finally:
        await api.close()
    cfg = yaml.safe_load(Path(admin).read_text())
    context = next(c for c in cfg["contexts"] if c["name"] == cfg["current-context"])["context"]
    cluster = next(c for c in cfg["clusters"] if c["name"] == context["cluster"])
    out.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [cluster], "current-context": "operator",
        "contexts": [{"name": "operator", "context": {"cluster": cluster["name"], "user": "operator"}}],
        "users": [{"name": "operator", "user": {"token": token.status.token}}]}))


async def remove_service_account_rbac(admin: str, namespace: str, operator_namespace: str) -> None:
    """The cluster-scoped objects `start` made (the ServiceAccount goes with its namespace)."""
    from kubernetes_asyncio import client
    from kubernetes_asyncio.client.exceptions import ApiException

    from updraft.k8s.resources import connect

    api = await connect(admin)
    try:
        rbac, name = client.RbacAuthorizationV1Api(api), f"{OPERATOR_SA}-{namespace}"
        for delete, args in ((rbac.delete_cluster_role_binding, (name,)), (rbac.delete_cluster_role, (name,)),
                             (rbac.delete_namespaced_role_binding, (name, operator_namespace)),
                             (rbac.delete_namespaced_role, (name, operator_namespace))):
            try:
                await delete(*args)
            except ApiException:
                pass
    finally:
        await api.close()


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to its end from sync code that may itself be inside an event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OperatorProcess:
    def __init__(self, kubeconfig: str, namespace: str, log_dir: Path, **env: str) -> None:
        self.admin_kubeconfig, self.namespace, self.log_dir = kubeconfig, namespace, log_dir
        self.kubeconfig = ""  # the ServiceAccount's, made at start
        self.env = {**os.environ, "UPDRAFT_RUNNER_IMAGE": os.environ.get("UPDRAFT_PROBE_IMAGE", "updraft.local/probe:1"),
                    "UPDRAFT_RUNNER_IMAGE_PULL_POLICY": "Never",
                    "UPDRAFT_RUNNER_COMMAND": json.dumps(["sh", "-c", STAND_IN]),
                    "UPDRAFT_RUNNER_RESOURCES": json.dumps({"requests": {"cpu": "10m", "memory": "16Mi"}}),
                    "UPDRAFT_POD_CLEANUP_DELAY_SECONDS": "600", **env}
        self.metrics_port = _free_port()
        self.env["UPDRAFT_METRICS_PORT"] = str(self.metrics_port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def operator_namespace(self) -> str:
        return self.env.get("UPDRAFT_OPERATOR_NAMESPACE", "updraft-system")

    def start(self) -> None:
        if not self.kubeconfig:  # under the chart's RBAC, never the admin's
            path = self.log_dir / "operator.kubeconfig"
            _in_thread(_service_account_kubeconfig(self.admin_kubeconfig, self.namespace, self.operator_namespace, path))
            self.kubeconfig = str(path)
            _RBAC_USERS[self.namespace] = _RBAC_USERS.get(self.namespace, 0) + 1
        self.starts += 1
        log = open(self.log_dir / f"operator-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "updraft.cli", "operator", "run", "--kubeconfig",
                                      self.kubeconfig, "--namespace", self.namespace],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: the harshest restart, no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.kubeconfig:  # the last process of its namespace removes the RBAC; a new start makes it again
            self.kubeconfig = ""
            _RBAC_USERS[self.namespace] -= 1
            if not _RBAC_USERS[self.namespace]:
                _in_thread(remove_service_account_rbac(self.admin_kubeconfig, self.namespace, self.operator_namespace))


async def wait_for(predicate: Any, timeout: float = 120, interval: float = 0.5, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


async def remove_all(api: Any, namespace: str, timeout: float = 90) -> None:
    """Delete the namespace's Workflows (the operator stops their runs first) and wait until no
    Updraft object is left; whatever still holds a finalizer after that has it removed."""
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    for wf in await kube.list("Workflow", namespace):
        await kube.delete("Workflow", wf["metadata"]["name"], namespace)
    for run in await kube.list("WorkflowRun", namespace):
        await kube.delete("WorkflowRun", run["metadata"]["name"], namespace)

    async def gone() -> bool:
        return not await kube.list("Workflow", namespace) and not await kube.list("WorkflowRun", namespace)

    try:
        await wait_for(gone, timeout, what="workflows and runs deleted")
    finally:
        for kind in ("WorkflowRun", "Workflow"):
            for obj in await kube.list(kind, namespace):
                await kube.patch(kind, obj["metadata"]["name"], namespace, {"metadata": {"finalizers": None}})
