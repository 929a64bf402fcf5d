"""Integration fixtures: the harness module on the path, and a real operator process per test."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from operator_harness import OperatorProcess, remove_all  # noqa: E402


@pytest.fixture
async def operator(kubeconfig: str, namespace: str, api: object, tmp_path: Path) -> AsyncIterator[OperatorProcess]:
    """`updraft operator run` watching the test's namespace; its logs are printed at the end."""
    proc = OperatorProcess(kubeconfig, namespace, tmp_path)
    proc.start()
    yield proc
    # delete through the operator (it owns the finalizers), then stop it
    await remove_all(api, namespace)
    proc.stop()
    for log in sorted(tmp_path.glob("operator-*.log")):
        print(f"--- {log.name} ---\n{log.read_text()[-4000:]}")
