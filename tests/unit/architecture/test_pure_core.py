"""The pure core stays pure: no Kubernetes, HTTP, AWS or metrics clients, and no clock.

Checked on the source (AST), so a lazy import inside a function is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3] / "operator" / "updraft"
PURE = ["model", "definition", "schedule", "engine", "podspec", "isolation", "quota", "plan", "guards", "remote"]
# pure modules inside the adapter layers (their docstrings say so)
PURE_MODULES = ["arns.py", "api/views.py", "api/requests.py", "api/pagination.py",
                "leader/election.py", "taskapi/tokens.py", "console/layout.py", "console/graph.py",
                "console/pages.py", "console/params.py", "console/sessions.py",
                "runner/batches.py"]
FORBIDDEN_MODULES = {"kopf", "kubernetes", "kubernetes_asyncio", "aiohttp", "prometheus_client", "requests",
                     "boto3", "botocore", "urllib3", "socket", "subprocess", "updraft.k8s", "updraft.handlers",
                     "updraft.metrics", "updraft.cloudlogs", "updraft.versions", "updraft.sources", "updraft.errors", "updraft.taskapi.server",
                     "updraft.taskapi.store", "updraft.api.server", "updraft.api.service"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "monotonic"), ("time", "sleep")}

FILES = sorted([p for pkg in PURE for p in (ROOT / pkg).rglob("*.py")] + [ROOT / m for m in PURE_MODULES])


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for n in names:
            if any(n == m or n.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"line {node.lineno}: imports {n}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (owner_name, node.func.attr) in CLOCK_CALLS:
                found.append(f"line {node.lineno}: reads the clock ({owner_name}.{node.func.attr}())")
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_pure_module(path: Path) -> None:
    assert _violations(path) == []


def test_the_checker_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import kopf\nfrom datetime import datetime\ndef f():\n    from boto3 import client\n    return datetime.now()\n")
    assert len(_violations(bad)) == 3
