"""The operator under test: `updraft operator run` as a local process, under the chart's own
ServiceAccount RBAC (the integration harness makes the ServiceAccount and binds the rules parsed
from the chart's template; never the admin's credentials), talking to the API server only through
its fault-proxy listener."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys
from typing import Any

import yaml

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "integration"))

from operator_harness import (_free_port, _service_account_kubeconfig,  # noqa: E402
                              remove_service_account_rbac)

KWOK_PLACEMENT = {
    "UPDRAFT_RUNNER_NODE_SELECTOR": json.dumps({"type": "kwok"}),
    "UPDRAFT_RUNNER_TOLERATIONS": json.dumps([{"key": "kwok.x-k8s.io/node", "operator": "Exists",
                                               "effect": "NoSchedule"}]),
}


async def proxied_kubeconfig(admin: str, namespace: str, out: pathlib.Path, proxy_port: int) -> None:
    """The chart-RBAC ServiceAccount's token kubeconfig, its server replaced by the proxy's listener."""
    await _service_account_kubeconfig(admin, namespace, namespace, out)
    cfg = yaml.safe_load(out.read_text())
    cfg["clusters"][0]["cluster"] = {"server": f"http://127.0.0.1:{proxy_port}"}
    out.write_text(yaml.safe_dump(cfg))


async def remove_rbac(admin: str, namespace: str) -> None:
    await remove_service_account_rbac(admin, namespace, namespace)


class Replica:
    """One operator process; `kill` is SIGKILL (no clean-up), `start` a fresh process."""

    def __init__(self, index: int, kubeconfig: pathlib.Path, namespace: str, log_dir: pathlib.Path,
                 replicas: int) -> None:
        self.index, self.kubeconfig, self.namespace, self.log_dir = index, kubeconfig, namespace, log_dir
        task_api_port = _free_port()
        self.env = {**os.environ, **KWOK_PLACEMENT,
                    # this checkout's operator, whatever the venv's editable install points at
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(TOP / "operator"), os.environ.get("PYTHONPATH")])),
                    "UPDRAFT_RUNNER_IMAGE": "updraft.local/runner:chaos",
                    "UPDRAFT_RUNNER_RESOURCES": json.dumps({"requests": {"cpu": "10m", "memory": "16Mi"}}),
                    # a task API (never called by KWOK's pods) so that every attempt gets its token Secret
                    "UPDRAFT_TASK_API_URL": f"http://127.0.0.1:{task_api_port}",
                    "UPDRAFT_TASK_API_PLAIN_HTTP": "true", "UPDRAFT_TASK_API_PORT": str(task_api_port),
                    "UPDRAFT_TASK_API_KEY": "chaos-suite-task-api-key-0123456789abcdef",
                    "UPDRAFT_POD_CLEANUP_DELAY_SECONDS": "5", "UPDRAFT_FAILED_POD_RETENTION_SECONDS": "5",
                    "UPDRAFT_KUBE_TIMEOUT_SECONDS": "5", "UPDRAFT_METRICS_PORT": str(_free_port()),
                    "UPDRAFT_OPERATOR_NAMESPACE": namespace,
                    # with replicas: a short Lease, so that a takeover after a kill costs seconds
                    "UPDRAFT_LEADER_ELECTION": "true" if replicas > 1 else "false",
                    "UPDRAFT_LEASE_DURATION_SECONDS": "6", "UPDRAFT_LEASE_RENEW_PERIOD_SECONDS": "2",
                    "UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS": "4"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.restart: asyncio.TimerHandle | None = None

    @property
    def identity(self) -> str:
        return f"chaos-operator-{self.index}-{self.starts}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.restart = None
        if self.alive:
            return
        self.starts += 1
        # every process is a new pod as far as the Lease goes (a Deployment's pods get new names)
        self.env["UPDRAFT_POD_NAME"] = self.identity
        log = open(self.log_dir / f"operator-{self.index}-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "updraft.cli", "operator", "run", "--kubeconfig",
                                      str(self.kubeconfig), "--namespace", self.namespace],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self) -> bool:
        """SIGKILL the process group; False when it was not running."""
        if not self.alive:
            return False
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        return True

    def restart_later(self, delay: float) -> None:
        if self.restart is None:
            self.restart = asyncio.get_running_loop().call_later(delay, self.start)

    def stop(self) -> None:
        if self.restart is not None:
            self.restart.cancel()
            self.restart = None
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def exit_codes(self) -> Any:
        return None if self.proc is None else self.proc.poll()
