"""Fixtures of the end-to-end tests (they run against the chart installed by make deploy)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

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
