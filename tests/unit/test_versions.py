"""The versions service over the FakeKube: stored graphs load without validation; a version made
before graphs were stored is compiled once per process with the widest limits (it was valid when
made) and gets its ConfigMap; a missing one is a Permanent error; the cache is bounded."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakekube import FakeKube  # noqa: E402

import updraft.versions  # noqa: E402
from updraft.errors import Permanent  # noqa: E402
from updraft.model import names  # noqa: E402
from updraft.versions import Versions  # noqa: E402

LEGACY = textwrap.dedent("""
    old:
      max_active_runs: 50
      tasks:
        a: {operator: EmptyOperator, retries: 9}
""")  # beyond today's limits (20 runs, 3 retries): valid under the limits of its day


async def legacy_version(kube: FakeKube) -> None:
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowVersion",
                       "metadata": {"name": names.version_object_name("old", "a" * 32)},
                       "spec": {"workflowName": "old", "versionId": "a" * 32, "definition": LEGACY}}, "d")


async def test_a_legacy_version_is_compiled_once_with_the_widest_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    kube = FakeKube()
    await legacy_version(kube)
    seen: list[Any] = []
    real = updraft.versions.validate
    monkeypatch.setattr(updraft.versions, "validate", lambda text, **kw: seen.append(kw) or real(text, **kw))
    versions = Versions(kube)  # type: ignore[arg-type]
    first = await versions.load("d", "old", "a" * 32)
    again = await versions.load("d", "old", "a" * 32)
    assert first is again and first.graph.max_active_runs == 50 and first.graph.tasks["a"].retries == 9
    assert len(seen) == 1 and versions.compiled_legacy == 1
    cm = await kube.get("ConfigMap", first.definition_configmap, "d")
    assert cm["metadata"]["ownerReferences"][0]["uid"] == first.uid


async def test_a_missing_version_is_permanent() -> None:
    with pytest.raises(Permanent) as missing:
        await Versions(FakeKube()).load("d", "old", "b" * 32)  # type: ignore[arg-type]
    assert missing.value.reason == "VersionNotFound" and "b" * 32 in missing.value.message


async def test_the_cache_is_bounded() -> None:
    kube = FakeKube()
    await legacy_version(kube)
    versions = Versions(kube, cache_tasks=1)  # type: ignore[arg-type]
    await versions.load("d", "old", "a" * 32)
    stored = kube.objects[("WorkflowVersion", "d", names.version_object_name("old", "a" * 32))]
    await kube.create({**stored, "metadata": {"name": names.version_object_name("old", "c" * 32)}}, "d")
    await versions.load("d", "old", "c" * 32)
    await versions.load("d", "old", "a" * 32)
    assert kube.calls[("get", "WorkflowVersion")] == 3


async def test_the_cache_holds_a_thousand_small_workflows_and_bounds_big_ones_by_tasks() -> None:
    """Every run and schedule pass loads its version: at 1,000 one-task workflows each must be a
    cache hit (a bound of 256 versions made every pass a GET); the bound is counted in tasks."""
    from updraft.definition import to_dict, validate

    kube = FakeKube()
    small_definition = "w:\n  tasks:\n    a: {operator: EmptyOperator}\n"
    graph = to_dict(validate(small_definition).graph)  # type: ignore[arg-type]
    for i in range(1000):
        vid = f"{i:032x}"
        await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowVersion",
                           "metadata": {"name": names.version_object_name(f"w{i}", vid)},
                           "spec": {"workflowName": f"w{i}", "versionId": vid,
                                    "definition": small_definition, "graph": graph}}, "d")
    versions = Versions(kube)  # type: ignore[arg-type]
    for _ in range(3):
        for i in range(1000):
            await versions.load("d", f"w{i}", f"{i:032x}")
    assert kube.calls[("get", "WorkflowVersion")] == 1000
    small = Versions(kube, cache_tasks=2 * 500)  # type: ignore[arg-type]
    for _ in range(2):
        for i in range(1000):
            await small.load("d", f"w{i}", f"{i:032x}")
    assert kube.calls[("get", "WorkflowVersion")] == 1000 + 2000  # 500 fit: every load of a cycle misses
