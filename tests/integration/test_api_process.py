"""`updraft api serve` as the chart runs it, a process: it answers, and SIGTERM (what a stopping
pod sends its PID 1) ends it promptly and cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from operator_harness import _free_port

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]


def test_serves_then_stops_on_sigterm(kubeconfig: str, namespace: str) -> None:
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("updraft")), "api", "serve", "--insecure-no-auth", "--plain-http", "--host", "127.0.0.1",
                             "--port", str(port), "--metrics-port", "0", "--region", "us-east-1",
                             "--account-id", "123456789012", "--namespace", namespace, "--kubeconfig", kubeconfig],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}", method="POST", headers={
                    "X-Amz-Target": "AmazonMWAAServerless.ListWorkflows", "Content-Type": "application/x-amz-json-1.0"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    assert resp.status == 200
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 5
    finally:
        if proc.poll() is None:
            proc.kill()
