"""A deleted workflow stops its unfinished runs, then waits for them, looking again less and less
often: each look is a kopf retry that writes the Workflow, and 1,000 workflows deleted at once,
each looking every 2 s, made the leader miss its Lease renewal."""

from __future__ import annotations

import kopf
import pytest

from harness import NS, Clock, chain, context, make_workflow, start
from fakekube import FakeKube

from updraft.handlers import app


async def test_a_deleted_workflow_stops_its_runs_and_backs_off_while_they_stop(kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-1")
    memo = {"ctx": context(kube, clock)}
    body = await kube.get("Workflow", "w", NS)
    delays = []
    for retry in range(7):
        patch = kopf.Patch()
        with pytest.raises(kopf.TemporaryError) as raised:
            await app.workflow_deleted(body=body, name="w", namespace=NS, patch=patch, memo=memo, retry=retry)
        assert "waiting for 1 run(s) to stop" in str(raised.value)
        delays.append(raised.value.delay)
        assert patch.status["workflowStatus"] == "DELETING"
    assert (await kube.get("WorkflowRun", "w-1", NS))["spec"]["stop"] is True
    assert delays == [2, 4, 8, 15, 30, 30, 30]

    await kube.patch_status("WorkflowRun", "w-1", NS, {"runState": "STOPPED"})
    await app.workflow_deleted(body=body, name="w", namespace=NS, patch=kopf.Patch(), memo=memo, retry=7)  # done


async def test_many_deleted_workflows_write_their_runs_stop_a_few_at_a_time(kube: FakeKube, clock: Clock) -> None:
    import asyncio

    from updraft.handlers.context import WORKFLOW_RECONCILES

    names = [f"w{i}" for i in range(12)]
    for name in names:
        await make_workflow(kube, clock, name, chain(1, name))
        await start(kube, name, f"{name}-1")
    memo = {"ctx": context(kube, clock)}
    real, at_once, most = kube.patch, [0], [0]

    async def slow_patch(*args, **kwargs):  # type: ignore[no-untyped-def]
        at_once[0] += 1
        most[0] = max(most[0], at_once[0])
        try:
            await asyncio.sleep(0.02)  # long enough for every deletion to pile up if unbounded
            return await real(*args, **kwargs)
        finally:
            at_once[0] -= 1

    kube.patch = slow_patch  # type: ignore[method-assign]

    async def delete(name: str) -> None:
        with pytest.raises(kopf.TemporaryError):
            await app.workflow_deleted(body=await kube.get("Workflow", name, NS), name=name, namespace=NS,
                                       patch=kopf.Patch(), memo=memo)

    await asyncio.gather(*(delete(n) for n in names))
    assert 1 < most[0] <= WORKFLOW_RECONCILES
    for n in names:
        assert (await kube.get("WorkflowRun", f"{n}-1", NS))["spec"]["stop"] is True
