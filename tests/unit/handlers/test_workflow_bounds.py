"""An operator that starts with many workflows reconciles them all, a few at a time, and makes
one AWS client of each kind, not one per workflow: 1,000 workflows reconciled at once, each with
its own CloudWatch Logs client, outgrew the operator's 512 MiB and crash-looped it (2026-12-03,
the schedule phase of bench/capacity.py). Past the workflow quota, the oldest workflows fit,
counted from the watch-fed index, whatever order they are reconciled in."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import kopf
import pytest
from harness import Clock, context, workflow_body
from fakekube import FakeKube

import updraft.versions
from updraft.handlers import app
from updraft.handlers.context import WORKFLOW_RECONCILES, made_once
from updraft.handlers.workflows import reconcile_workflow
from updraft.model.workflow import Workflow

DEFINITION = "d:\n  schedule: '* * * * *'\n  tasks:\n    t: {operator: EmptyOperator}\n"


async def test_many_workflows_are_reconciled_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    lock, at_once, most = threading.Lock(), [0], [0]
    real = updraft.versions.validate

    def validate(text: str, **kwargs: Any) -> Any:  # runs in a thread, as in the operator
        with lock:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
        try:
            time.sleep(0.02)  # long enough for every waiting reconcile to pile up if unbounded
            return real(text, **kwargs)
        finally:
            with lock:
                at_once[0] -= 1

    monkeypatch.setattr(updraft.versions, "validate", validate)
    kube = FakeKube()
    ctx = context(kube, Clock())
    bodies = [kube.put(workflow_body(f"wf{i}", DEFINITION), "ns") for i in range(3 * WORKFLOW_RECONCILES + 1)]
    patches = [kopf.Patch() for _ in bodies]
    await asyncio.gather(*(app.workflow_changed(body=b, patch=p, memo={"ctx": ctx}) for b, p in zip(bodies, patches)))
    assert 1 <= most[0] <= WORKFLOW_RECONCILES
    assert all(p.status.get("latestVersion") for p in patches)  # every one got its version


def test_a_client_is_made_once_whatever_the_threads() -> None:
    made: list[object] = []

    def factory() -> object:
        time.sleep(0.01)  # a slow first make: every thread asks meanwhile
        made.append(object())
        return made[-1]

    get = made_once(factory)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and got == made * 8


async def test_past_the_workflow_quota_the_oldest_fit_whichever_is_reconciled_first() -> None:
    clock = Clock()
    kube = FakeKube(clock)
    for name in ("a-first", "b-second", "c-third"):
        kube.put(workflow_body(name, DEFINITION), "ns")
        clock.advance(seconds=1)
    ctx = context(kube, clock, max_workflows=2)
    ctx.watched.attach({("ns", n): [Workflow.from_body(await kube.get("Workflow", n, "ns"))]
                        for n in ("a-first", "b-second", "c-third")}, {})
    verdicts = {}
    for name in ("c-third", "b-second", "a-first"):  # the newest first: a LIST count would let it in
        status = await reconcile_workflow(ctx, await kube.get("Workflow", name, "ns"))
        verdicts[name] = (bool(status.get("latestVersion")),
                          next(c["reason"] for c in status["conditions"] if c["type"] == "DefinitionValid"))
    assert verdicts == {"a-first": (True, "Valid"), "b-second": (True, "Valid"),
                        "c-third": (False, "ServiceQuotaExceeded")}
