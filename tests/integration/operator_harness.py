"""Run the real operator (`updraft operator run`) as a process against the local cluster, with
the busybox probe image standing in for the runner: a task's id says what its pod does
(ok*: exit 0, fail*: exit 1, slow*: sleep 600, nap*: sleep 6)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STAND_IN = ("echo task=$UPDRAFT_TASK_ID attempt=$UPDRAFT_ATTEMPT; case $UPDRAFT_TASK_ID in "
            "fail*) exit 1;; slow*) sleep 600;; nap*) sleep 6;; esac")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


class OperatorProcess:
    def __init__(self, kubeconfig: str, namespace: str, log_dir: Path, **env: str) -> None:
        self.kubeconfig, self.namespace, self.log_dir = kubeconfig, namespace, log_dir
        self.env = {**os.environ, "UPDRAFT_RUNNER_IMAGE": os.environ.get("UPDRAFT_PROBE_IMAGE", "updraft.local/probe:1"),
                    "UPDRAFT_RUNNER_IMAGE_PULL_POLICY": "Never",
                    "UPDRAFT_RUNNER_COMMAND": json.dumps(["sh", "-c", STAND_IN]),
                    "UPDRAFT_RUNNER_RESOURCES": json.dumps({"requests": {"cpu": "10m", "memory": "16Mi"}}),
                    "UPDRAFT_POD_CLEANUP_DELAY_SECONDS": "600", **env}
        self.metrics_port = _free_port()
        self.env["UPDRAFT_METRICS_PORT"] = str(self.metrics_port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
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
