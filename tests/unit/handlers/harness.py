"""Handlers against the in-memory FakeKube with a settable clock (see tests/unit/fakekube.py)."""

from __future__ import annotations


from datetime import datetime, timedelta, timezone
from typing import Any

import pytest



from fakekube import FakeKube  # noqa: E402

from updraft.config import Settings  # noqa: E402
from updraft.handlers.context import Context  # noqa: E402

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
