"""The shell of leader election: read the Lease, let `election.decide` choose, write it back.

Writes carry the Lease's resourceVersion, so of two replicas that decide to take it at the same
moment the API server accepts one and answers the other 409 Conflict; that one looks again.
The Lease lives in the operator's namespace; the identity is the pod name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from updraft.k8s.resources import Kube, KubeError
from updraft.leader.election import LeaseRecord, decide, released, still_leader

log = logging.getLogger("updraft.leader")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[Any]]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def _try_once(kube: Kube, namespace: str, name: str, identity: str, now: datetime, duration_s: int,
                    renew_every_s: float) -> tuple[bool, float, str | None]:
    """One look at the Lease: (holding it now, seconds until the next look, the other holder)."""
    current = await kube.get_or_none("Lease", name, namespace)
    if current is None:
        record = LeaseRecord(identity, now, now, duration_s, 0)
        created = await kube.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                     "metadata": {"name": name, "namespace": namespace},
                                     "spec": record.to_spec()}, namespace)
        if not created.existed:
            return True, renew_every_s, None
        current = dict(created.body)
    decision = decide(LeaseRecord.from_lease(current), identity, now, duration_s, renew_every_s)
    if decision.action == "wait":
        return False, decision.retry_in_s, (current.get("spec") or {}).get("holderIdentity")
    assert decision.record is not None
    await kube.patch("Lease", name, namespace, {
        "metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
        "spec": decision.record.to_spec()})
    return True, decision.retry_in_s, None


async def acquire(api: Any, namespace: str, name: str, identity: str, *, duration_s: int = 15,
                  renew_every_s: float = 5, clock: Clock = _utcnow, sleep: Sleep = asyncio.sleep) -> None:
    """Return once `identity` holds the Lease `namespace/name`; until then, look again as
    `decide` says. API errors (a conflict included) mean: look again."""
    kube = Kube(api)
    seen_holder: str | None = None
    while True:
        try:
            held, retry_in, holder = await _try_once(kube, namespace, name, identity, clock(), duration_s, renew_every_s)
        except KubeError as e:
            log.info("leader Lease %s/%s: %s; trying again", namespace, name, e.reason)
            held, retry_in, holder = False, renew_every_s, seen_holder
        if held:
            log.info("leader Lease %s/%s acquired by %s", namespace, name, identity)
            return
        if holder != seen_holder:
            log.info("leader Lease %s/%s is held by %s; %s waits", namespace, name, holder, identity)
            seen_holder = holder
        await sleep(retry_in)


async def hold_leadership(api: Any, namespace: str, name: str, identity: str, *, duration_s: int = 15,
                          renew_every_s: float = 5, renew_deadline_s: float = 10, clock: Clock = _utcnow,
                          sleep: Sleep = asyncio.sleep) -> None:
    """Renew the Lease (held after `acquire`) every `renew_every_s`. Returns when it could not be
    renewed for `renew_deadline_s`, or another replica holds it: the caller must stop acting as
    leader. Cancelled (the operator stops): release the Lease so a standby takes over at once."""
    kube = Kube(api)
    last = clock()
    try:
        while True:
            await sleep(renew_every_s)
            now = clock()
            try:
                held, _, holder = await _try_once(kube, namespace, name, identity, now, duration_s, renew_every_s)
            except KubeError as e:
                held, holder = False, None
                log.warning("leader Lease %s/%s: renewal failed: %s", namespace, name, e)
            if held:
                last = now
            elif holder is not None:
                log.error("leader Lease %s/%s is now held by %s; %s stops leading", namespace, name, holder, identity)
                return
            if not still_leader(last, clock(), renew_deadline_s):
                log.error("leader Lease %s/%s not renewed for %.0fs; %s stops leading", namespace, name,
                          renew_deadline_s, identity)
                return
    except asyncio.CancelledError:
        await asyncio.shield(_release(kube, namespace, name, identity, clock()))
        raise


async def _release(kube: Kube, namespace: str, name: str, identity: str, now: datetime) -> None:
    try:
        current = await asyncio.wait_for(kube.get_or_none("Lease", name, namespace), timeout=3)
        record = LeaseRecord.from_lease(current or {})
        if current is None or record is None or record.holder != identity:
            return
        await asyncio.wait_for(kube.patch("Lease", name, namespace, {
            "metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
            "spec": released(record, now).to_spec()}), timeout=3)
        log.info("leader Lease %s/%s released by %s", namespace, name, identity)
    except (KubeError, asyncio.TimeoutError) as e:
        log.warning("leader Lease %s/%s: could not release (%s); it expires by itself", namespace, name, e)
