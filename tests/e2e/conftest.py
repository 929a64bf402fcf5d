"""Fixtures of the end-to-end tests (they run against the chart installed by make deploy)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

TOP = Path(__file__).parents[2]


@pytest.fixture
def kubectl(kubeconfig: str) -> Callable[..., str]:
    """Run the harness's kubectl against the local cluster; fails the test on a non-zero exit."""
    versions = dict(line.split("=", 1) for line in (TOP / "hack/cluster/versions.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    cache = Path(os.environ.get("UPDRAFT_CACHE", Path.home() / ".cache/updraft"))
    binary = cache / "bin" / f"k8s-{versions['K8S_VERSION'].strip()}" / "kubectl"

    def run(*args: str) -> str:
        proc = subprocess.run([str(binary), "--kubeconfig", kubeconfig, *args], capture_output=True, text=True)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    return run
