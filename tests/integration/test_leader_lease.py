"""Leader election against the real API server: one holder at a time, a stopping leader hands
over at once, a vanished one after its Lease expires, and a leader that cannot renew steps down."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]
FAST = dict(duration_s=3, renew_every_s=0.5)


async def _holder(api: object, namespace: str) -> dict:
    from updraft.k8s.resources import Kube

    return (await Kube(api).get("Lease", "leader", namespace))["spec"]


async def test_one_leader_and_a_prompt_handover_on_stop(api: object, namespace: str) -> None:
    from updraft.leader.lease import acquire, hold_leadership

    await acquire(api, namespace, "leader", "a", **FAST)
    holding = asyncio.create_task(hold_leadership(api, namespace, "leader", "a", renew_deadline_s=2, **FAST))
    b = asyncio.create_task(acquire(api, namespace, "leader", "b", **FAST))
    await asyncio.sleep(4)  # longer than the Lease: a keeps renewing, so b still waits
    assert not b.done()
    assert (await _holder(api, namespace))["holderIdentity"] == "a"
    holding.cancel()  # a stops: it releases the Lease
    await asyncio.gather(holding, return_exceptions=True)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.wait_for(b, timeout=3)
    assert loop.time() - t0 < 1.5, "b took over well before the Lease would have expired"
    spec = await _holder(api, namespace)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1


async def test_a_vanished_leader_is_replaced_after_expiry(api: object, namespace: str) -> None:
    from updraft.leader.lease import acquire

    await acquire(api, namespace, "leader", "a", **FAST)  # and then a never renews
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.wait_for(acquire(api, namespace, "leader", "b", **FAST), timeout=10)
    assert loop.time() - t0 >= 2.0, "b must not take a Lease that has not expired"
    spec = await _holder(api, namespace)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1


async def test_a_leader_whose_lease_was_taken_steps_down(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube
    from updraft.leader.lease import acquire, hold_leadership

    await acquire(api, namespace, "leader", "a", **FAST)
    holding = asyncio.create_task(hold_leadership(api, namespace, "leader", "a", renew_deadline_s=2, **FAST))
    # someone (an operator paused past its Lease, in real life) writes itself in
    await Kube(api).patch("Lease", "leader", namespace, {"spec": {"holderIdentity": "intruder"}})
    await asyncio.wait_for(holding, timeout=5)  # returns: a must stop leading
    assert (await _holder(api, namespace))["holderIdentity"] == "intruder"
