"""Handlers against the in-memory FakeKube with a settable clock (see tests/unit/fakekube.py)."""

from __future__ import annotations


from datetime import datetime, timedelta, timezone
from typing import Any

import pytest



from fakekube import FakeKube  # noqa: E402

from updraft.config import Settings  # noqa: E402
from updraft.handlers.context import Context  # noqa: E402
from updraft.handlers.workflows import reconcile_workflow  # noqa: E402

NS = "data"
T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kube(clock: Clock) -> FakeKube:
    return FakeKube(clock)


def context(kube: FakeKube, clock: Clock, **settings: Any) -> Context:
    """A fresh operator process's context (a restart is a new one over the same objects)."""
    return Context(settings=Settings(**settings), kube=kube, s3_client_factory=lambda: None,  # type: ignore[arg-type]
                   clock=clock)


def workflow_body(name: str, definition: str | None = None, **spec: Any) -> dict[str, Any]:
    source = {"definition": definition} if definition is not None else {}
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "namespace": NS},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/r", **source, **spec}}


def chain(n: int, dag: str = "big") -> str:
    """An n-task chain of no-op tasks."""
    lines = [f"{dag}:", "  schedule: None", "  tasks:", "    t0: {operator: EmptyOperator}"]
    lines += [f"    t{i}: {{operator: EmptyOperator, dependencies: [t{i - 1}]}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


async def make_workflow(kube: FakeKube, clock: Clock, name: str, definition: str) -> str:
    await kube.create(workflow_body(name, definition), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", name, NS))
    await kube.patch_status("Workflow", name, NS, status)
    return str(status["latestVersion"])


async def start(kube: FakeKube, workflow: str, run: str) -> None:
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": run},
                       "spec": {"workflowName": workflow, "runType": "ON_DEMAND"}}, NS)
