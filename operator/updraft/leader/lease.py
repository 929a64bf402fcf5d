"""The shell of leader election: read the Lease, let `election.decide` choose, write it back.

Writes carry the Lease's resourceVersion, so of two replicas that decide to take it at the same
moment the API server accepts one and answers the other 409 Conflict; that one looks again.
The Lease lives in the operator's namespace; the identity is the pod name.

Time: expiry and the renew deadline are counted on this process's monotonic clock (`Mono`); the
wall clock (`Clock`) is only written into the Lease. Every call has a deadline, and a renewal never
outlives the renew deadline. `LeaseKeeper` renews on a thread of its own, with its own event loop
and ApiClient, so a busy reconcile loop cannot delay a renewal; its `leading()` is the fence the
operator's writes ask.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from updraft.k8s.resources import Kube, KubeError
from updraft.leader.election import LeaseRecord, Sighting, decide, released, sight, still_leader

log = logging.getLogger("updraft.leader")
Clock = Callable[[], datetime]
Mono = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
RETRY_AFTER_FAILURE_S = 1.0  # a failed renewal is tried again this soon, within the deadline
CALL_TIMEOUT_S = 5.0  # one Lease call; a renewal is further bounded by what is left of the renew deadline


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def _try_once(kube: Kube, namespace: str, name: str, identity: str, now: datetime, duration_s: int,
                    renew_every_s: float, seen: Sighting | None, mono: float
                    ) -> tuple[bool, float, str | None, Sighting | None]:
    """One look at the Lease: (holding it now, seconds until the next look, the other holder,
    the sighting to remember)."""
    current = await kube.get_or_none("Lease", name, namespace)
    if current is None:
        record = LeaseRecord(identity, now, now, duration_s, 0)
        created = await kube.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                     "metadata": {"name": name, "namespace": namespace},
                                     "spec": record.to_spec()}, namespace)
        if not created.existed:
            return True, renew_every_s, None, None
        current = dict(created.body)
    observed = LeaseRecord.from_lease(current)
    seen = sight(seen, observed, mono)
    decision = decide(observed, identity, now, duration_s, renew_every_s, seen.unchanged_for(mono))
    if decision.action == "wait":
        return False, decision.retry_in_s, (current.get("spec") or {}).get("holderIdentity"), seen
    assert decision.record is not None
    await kube.patch("Lease", name, namespace, {
        "metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
        "spec": decision.record.to_spec()})
    return True, decision.retry_in_s, None, None


async def acquire(api: Any, namespace: str, name: str, identity: str, *, duration_s: int = 15,
                  renew_every_s: float = 5, clock: Clock = _utcnow, mono: Mono = time.monotonic,
                  sleep: Sleep = asyncio.sleep, timeout_s: float = CALL_TIMEOUT_S) -> float:
    """Return once `identity` holds the Lease `namespace/name`, with the monotonic time at which
    the winning write was sent; until then, look again as `decide` says. API errors (a conflict
    or a timeout included) mean: look again."""
    kube = Kube(api, timeout_s=timeout_s)
    seen_holder: str | None = None
    seen: Sighting | None = None
    while True:
        sent = mono()
        try:
            held, retry_in, holder, seen = await _try_once(kube, namespace, name, identity, clock(), duration_s,
                                                           renew_every_s, seen, sent)
        except KubeError as e:
            log.info("leader Lease %s/%s: %s; trying again", namespace, name, e.reason)
            held, retry_in, holder = False, renew_every_s, seen_holder
        if held:
            log.info("leader Lease %s/%s acquired by %s", namespace, name, identity)
            return sent
        if holder != seen_holder:
            log.info("leader Lease %s/%s is held by %s; %s waits", namespace, name, holder, identity)
            seen_holder = holder
        await sleep(retry_in)


async def hold_leadership(api: Any, namespace: str, name: str, identity: str, *, duration_s: int = 15,
                          renew_every_s: float = 5, renew_deadline_s: float = 10, clock: Clock = _utcnow,
                          mono: Mono = time.monotonic, sleep: Sleep = asyncio.sleep,
                          acquired_at: float | None = None,
                          on_renewed: Callable[[float], None] | None = None,
                          timeout_s: float = CALL_TIMEOUT_S) -> None:
    """Renew the Lease (held after `acquire`, whose write was sent at `acquired_at`) every
    `renew_every_s`; `on_renewed(sent)` after each renewal. Returns when it could not be renewed
    within `renew_deadline_s` of the last renewal (an attempt is cut off at that deadline), or
    another replica holds it: the caller must stop acting as leader. Cancelled (the operator
    stops): release the Lease so a standby takes over at once."""
    kube = Kube(api, timeout_s=timeout_s)
    last = mono() if acquired_at is None else acquired_at
    delay = renew_every_s
    try:
        while True:
            await sleep(max(0.0, min(delay, last + renew_deadline_s - mono())))
            sent = mono()
            left = last + renew_deadline_s - sent
            held, holder = False, None
            if left > 0:
                try:
                    held, _, holder, _ = await asyncio.wait_for(
                        _try_once(kube, namespace, name, identity, clock(), duration_s, renew_every_s, None, sent),
                        timeout=left)
                except KubeError as e:
                    log.warning("leader Lease %s/%s: renewal failed: %s", namespace, name, e)
                except asyncio.TimeoutError:
                    log.warning("leader Lease %s/%s: renewal not answered within the renew deadline", namespace, name)
            delay = renew_every_s if held else min(renew_every_s, RETRY_AFTER_FAILURE_S)
            if held:
                last = sent
                if on_renewed is not None:
                    on_renewed(sent)
            elif holder is not None:
                log.error("leader Lease %s/%s is now held by %s; %s stops leading", namespace, name, holder, identity)
                return
            if not still_leader(last, mono(), renew_deadline_s):
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


class LeaseKeeper:
    """Holds the Lease after `acquire`: renews it on a thread of its own, with its own event loop
    and its own ApiClient (from `connect`, called on that thread), so however busy the operator's
    loop is, renewals go out on time.

    - `leading()` (any thread): True until the renew deadline after the last renewal that was
      sent. It turns False by the clock alone, even if the keeper's thread is starved: the fence
      of every write the operator makes.
    - When the keeper stops leading (the deadline passed, or another replica holds the Lease), it
      calls `on_lost()` from its thread once; if `close()` has not been called within `grace_s`
      after that, `on_stuck()` (the operator: exit the process), so a loop too busy to stop
      cannot keep acting as leader.
    - `close()` (from the operator's loop): release the Lease and end the thread."""

    def __init__(self, connect: Callable[[], Awaitable[Any]], namespace: str, name: str, identity: str, *,
                 acquired_at: float, duration_s: int, renew_every_s: float, renew_deadline_s: float,
                 on_lost: Callable[[], object], on_stuck: Callable[[], object] | None = None, grace_s: float = 5.0,
                 mono: Mono = time.monotonic, timeout_s: float = CALL_TIMEOUT_S) -> None:
        self._connect, self.namespace, self.name, self.identity = connect, namespace, name, identity
        self._duration_s, self._renew_every_s, self._renew_deadline_s = duration_s, renew_every_s, renew_deadline_s
        self._on_lost, self._on_stuck, self._grace_s, self._mono, self._timeout_s = (
            on_lost, on_stuck, grace_s, mono, timeout_s)
        self._valid_until = acquired_at + renew_deadline_s
        self.lost = threading.Event()
        self._closing = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="updraft-lease", daemon=True)

    def leading(self) -> bool:
        return not self.lost.is_set() and self._mono() < self._valid_until

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(timeout=10)

    def _renewed(self, sent: float) -> None:
        self._valid_until = sent + self._renew_deadline_s

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # noqa: BLE001  (a thread's failure must still stop the leader)
            log.exception("leader Lease %s/%s: the renewal thread failed", self.namespace, self.name)
            self._lose()
        if self.lost.is_set() and not self._closing.wait(self._grace_s) and self._on_stuck is not None:
            log.error("leader Lease %s/%s lost and the operator did not stop within %.0fs; exiting",
                      self.namespace, self.name, self._grace_s)
            self._on_stuck()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._cancel = asyncio.Event()
        self._ready.set()
        api = await self._connect()
        try:
            holding = asyncio.create_task(hold_leadership(
                api, self.namespace, self.name, self.identity, duration_s=self._duration_s,
                renew_every_s=self._renew_every_s, renew_deadline_s=self._renew_deadline_s, mono=self._mono,
                acquired_at=self._valid_until - self._renew_deadline_s, on_renewed=self._renewed,
                timeout_s=self._timeout_s))
            closing = asyncio.create_task(self._cancel.wait())
            await asyncio.wait({holding, closing}, return_when=asyncio.FIRST_COMPLETED)
            if holding.done():
                closing.cancel()
                holding.result()
                self._lose()
            else:
                holding.cancel()
                await asyncio.gather(holding, return_exceptions=True)
        finally:
            await api.close()

    def _lose(self) -> None:
        if not self.lost.is_set():
            self.lost.set()
            self._on_lost()

    async def close(self) -> None:
        """Stop renewing and release the Lease (unless it was lost); wait for the thread."""
        self._closing.set()
        if self._loop is not None and self._cancel is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._cancel.set)
            except RuntimeError:  # its loop already ended
                pass
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, 10)
