"""Argo Workflows beside Updraft: its workflow-controller (built from the Go module proxy by
hack/peers/build-argo.sh) as a local process against the local cluster, the emissary executor in
the argoexec image (hack/peers/argoexec-image.sh), the module's minimal CRDs and executor Role."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import subprocess
import time
import urllib.request
from typing import Any

import peer_manifests as manifests
from peer_cluster import TOP, kubeconfig, kubectl, sh, versions
from peer_shapes import Shape

GROUP, VERSION = "argoproj.io", "v1alpha1"
CONTROLLER_NS = "argo"
FINAL = {"Succeeded": "success", "Failed": "failed", "Error": "failed"}
ARGO_VERSION = versions(TOP / "hack" / "peers" / "versions.env")["ARGO_VERSION"]
EXECUTOR_IMAGE = f"updraft.local/argoexec:{ARGO_VERSION}"


def build() -> pathlib.Path:
    """The cached binaries' directory (builds them when missing: slow when cold)."""
    return pathlib.Path(sh("bash", str(TOP / "hack" / "peers" / "build-argo.sh")).strip().splitlines()[-1])


def load_executor_image() -> None:
    sh("bash", str(TOP / "hack" / "peers" / "argoexec-image.sh"))


def install(bin_dir: pathlib.Path, namespace: str) -> None:
    """CRDs, the controller's namespace and (empty) ConfigMap, the bench namespace with the
    executor Role bound to its default ServiceAccount (the wait container writes task results)."""
    crds = sorted((bin_dir / "manifests" / "crds").glob("argoproj.io_*.yaml"))
    kubectl("apply", *(a for crd in crds for a in ("-f", str(crd))))
    for crd in ("workflows", "workflowtaskresults", "workflowtasksets"):
        kubectl("wait", "--for=condition=Established", f"crd/{crd}.argoproj.io", "--timeout=60s")
    for ns in (CONTROLLER_NS, namespace):
        if not kubectl("get", "ns", ns, "--ignore-not-found", "-o", "name"):
            kubectl("create", "ns", ns)
    if not kubectl("-n", CONTROLLER_NS, "get", "cm", "workflow-controller-configmap", "--ignore-not-found", "-o", "name"):
        kubectl("-n", CONTROLLER_NS, "create", "configmap", "workflow-controller-configmap")
    kubectl("-n", namespace, "apply", "-f", str(bin_dir / "manifests" / "executor-role.yaml"))
    if not kubectl("-n", namespace, "get", "rolebinding", "executor-default", "--ignore-not-found", "-o", "name"):
        kubectl("-n", namespace, "create", "rolebinding", "executor-default", "--role", "executor",
                "--serviceaccount", f"{namespace}:default")


class Controller:
    """The workflow-controller process: started in its own process group, ended by its pid."""

    def __init__(self, bin_dir: pathlib.Path, log: pathlib.Path, requeue: str | None) -> None:
        self.bin_dir, self.log, self.requeue = bin_dir, log, requeue
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Controller":
        env = {**os.environ, "LEADER_ELECTION_DISABLE": "true", "KUBECONFIG": kubeconfig()}
        if self.requeue:
            env["DEFAULT_REQUEUE_TIME"] = self.requeue
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "workflow-controller"), "--namespace", CONTROLLER_NS,
                 "--executor-image", EXECUTOR_IMAGE, "--executor-image-pull-policy", "Never", "--loglevel", "info"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"peers: workflow-controller exited ({self.proc.returncode}): see {self.log}")
            try:
                with urllib.request.urlopen("http://127.0.0.1:6060/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise SystemExit(f"peers: workflow-controller not healthy after 60 s: see {self.log}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Argo:
    run_label = "workflows.argoproj.io/workflow"

    def __init__(self, custom: Any, namespace: str, name: str = "argo", work: str = "airflow") -> None:
        self.custom, self.namespace, self.name, self.work = custom, namespace, name, work

    async def prepare(self, shape: Shape) -> None:
        """Nothing: an Argo Workflow carries its own definition."""

    async def trigger(self, shape: Shape, run: str) -> None:
        await self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflows",
                                                          manifests.argo_workflow(shape, run, self.work))

    async def state(self, run: str) -> str:
        obj = await self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflows", run)
        return FINAL.get((obj.get("status") or {}).get("phase", ""), "")

    async def forget(self, run: str) -> None:
        """Delete the finished Workflow (its pods and task results go with it), as Updraft's
        retention would; the next run starts with an empty informer cache of old pods."""
        await self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflows", run)
        await asyncio.sleep(0)
