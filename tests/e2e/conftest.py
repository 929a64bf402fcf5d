"""Fixtures of the end-to-end tests (they run against the chart installed by make deploy)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TOP = Path(__file__).parents[2]


def _binary(name: str) -> Path:
    """A binary the cluster harness built (kubectl, helm)."""
    versions = dict(line.split("=", 1) for line in (TOP / "hack/cluster/versions.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    cache = Path(os.environ.get("UPDRAFT_CACHE", Path.home() / ".cache/updraft"))
    return cache / "bin" / f"k8s-{versions['K8S_VERSION'].strip()}" / name


def _runner(name: str, kubeconfig: str) -> Callable[..., str]:
    binary = _binary(name)

    def run(*args: str) -> str:
        proc = subprocess.run([str(binary), "--kubeconfig", kubeconfig, *args], capture_output=True, text=True)
        assert proc.returncode == 0, f"{name} {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    return run


@pytest.fixture
def kubectl(kubeconfig: str) -> Callable[..., str]:
    """Run the harness's kubectl against the local cluster; fails the test on a non-zero exit."""
    return _runner("kubectl", kubeconfig)


@pytest.fixture
def helm(kubeconfig: str) -> Callable[..., str]:
    """Run the harness's Helm against the local cluster; fails the test on a non-zero exit."""
    return _runner("helm", kubeconfig)


SYSTEM = "updraft-system"


@contextmanager
def _forward(host: str, port: int) -> Iterator[int]:
    """A local port forwarding to host:port (what `kubectl port-forward` gives a user): the API's
    certificate names the Service's DNS names and localhost, not its cluster IP."""
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((host, port), timeout=10)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def _arg(args: list[str], flag: str, default: str) -> str:
    """A flag's value in `--flag value` or `--flag=value` form."""
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return default


@dataclass(frozen=True)
class ChartApi:
    """The chart's API as a user reaches it: HTTPS through a local forward (its certificate names
    the Service's DNS names and localhost), trusting the chart's CA, with its generated admin key."""
    endpoint: str
    ca_file: str
    region: str
    namespace: str
    key_id: str
    keys: dict[str, Any]

    @property
    def secret(self) -> str:
        return str(self.keys[self.key_id]["secretAccessKey"])


@pytest.fixture
async def chart_api(api: object, tmp_path: Path) -> AsyncIterator[ChartApi]:
    """The chart's API (make deploy), reached as a user reaches it."""
    from updraft.k8s.resources import Kube

    kube: Any = Kube(api)  # type: ignore[arg-type]
    deploy = await kube._call("GET", f"/apis/apps/v1/namespaces/{SYSTEM}/deployments/updraft-api")
    spec = deploy["spec"]["template"]["spec"]
    args = [str(a) for a in spec["containers"][0].get("args", [])]
    secret_name = next(v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == "credentials")
    secret = await kube.get("Secret", secret_name, SYSTEM)
    keys = json.loads(base64.b64decode(secret["data"]["credentials.json"]))
    key_id = next(k for k, v in keys.items() if "policies" not in v)
    svc = await kube._call("GET", f"/api/v1/namespaces/{SYSTEM}/services/updraft-api")
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "https")
    tls_secret = await kube.get("Secret", "updraft-api-tls", SYSTEM)
    ca_file = tmp_path / "api-ca.crt"
    ca_file.write_bytes(base64.b64decode(tls_secret["data"]["ca.crt"]))
    with _forward(svc["spec"]["clusterIP"], port) as local:
        yield ChartApi(f"https://localhost:{local}", str(ca_file), _arg(args, "--region", "us-east-1"),
                       _arg(args, "--namespace", "default"), key_id, keys)
