"""`updraft api serve` as a child process on plain HTTP, started and waited for: the one way the
integration tests and the capacity benchmark run the API of this checkout beside a local cluster.

Its audit trail (stdout) and log (stderr) go to files; it is ready when `/healthz` answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Mapping


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiStartError(RuntimeError):
    """The child exited or did not answer in time; the message ends with its log's tail."""


class ApiChild:
    """The API serving `namespace` with the credentials file `credentials`, on 127.0.0.1 at a free
    port. `extra_env` is added to this process's environment (an S3 endpoint, a PYTHONPATH)."""

    def __init__(self, *, kubeconfig: str, namespace: str, region: str, account_id: str, credentials: Path,
                 audit: Path, log: Path, rate_limit: float = 200, burst: int = 400,
                 extra_env: Mapping[str, str] | None = None, start_timeout_s: float = 30) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit, self.log = audit, log
        with audit.open("wb") as out, log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "updraft.cli", "api", "serve", "--port", str(self.port), "--host", "127.0.0.1",
                 "--region", region, "--account-id", account_id, "--credentials", str(credentials),
                 "--namespace", namespace, "--kubeconfig", kubeconfig, "--metrics-port", str(self.metrics_port),
                 "--rate-limit", str(rate_limit), "--burst", str(burst), "--plain-http"],
                env={**os.environ, **(extra_env or {})}, stdout=out, stderr=err, start_new_session=True)
        self._wait_ready(start_timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1).read()  # noqa: S310 - our own child
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ApiStartError(f"the API did not start:\n{self.log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
