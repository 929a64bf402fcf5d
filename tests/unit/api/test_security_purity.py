"""The security modules stay pure: no clock, no network, no Kubernetes, no botocore (the verifier
computes SigV4 itself). The only I/O allowed is named: credentials.load_credentials reads its file,
audit.AuditLog writes its stream. Checked on the source (AST), like tests/unit/architecture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

API = Path(__file__).parents[3] / "operator" / "updraft" / "api"
MODULES = ["credentials.py", "sigv4.py", "policy.py", "audit.py", "../guards/throttle.py", "../guards/depth.py"]
FORBIDDEN = {"boto3", "botocore", "kopf", "kubernetes", "kubernetes_asyncio", "aiohttp", "requests", "urllib3",
             "socket", "subprocess", "time", "os", "updraft.k8s", "updraft.handlers", "prometheus_client"}
CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
         ("time", "time"), ("time", "monotonic")}
IO_ALLOWED = {("credentials.py", "load_credentials"), ("audit.py", "write")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    function_of = {id(inner): f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for inner in ast.walk(f)}  # innermost function wins: nested ones are walked later
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for n in names:
            if any(n == m or n.startswith(m + ".") for m in FORBIDDEN):
                found.append(f"line {node.lineno}: imports {n}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else getattr(func.value, "attr", None)
                if (owner, func.attr) in CLOCK:
                    found.append(f"line {node.lineno}: reads the clock ({owner}.{func.attr}())")
            if isinstance(func, ast.Name) and func.id == "open" and \
                    (path.name, function_of.get(id(node))) not in IO_ALLOWED:
                found.append(f"line {node.lineno}: opens a file")
    return found


@pytest.mark.parametrize("name", MODULES)
def test_security_module_is_pure(name: str) -> None:
    assert _violations(API / name) == []


def test_the_checker_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import botocore.auth\nfrom datetime import datetime\nimport time\n"
                   "def f():\n    open('x')\n    return datetime.now(), time.monotonic()\n")
    assert len(_violations(bad)) == 5
