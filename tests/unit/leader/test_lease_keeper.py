"""The Lease's shell: renewals on a thread of their own keep the Lease while the operator's loop is
blocked; a renewal that hangs ends at the renew deadline and the leader stops (no deposed leader
keeps leading); the fence refuses writes after the deadline; every Kubernetes call has a deadline.

The API server here is a fake (`LeaseServer`: one Lease in memory, resourceVersion checked on
writes, and a switch that makes every call hang): a real apiserver cannot be made to stall on
demand, and these tests are about what the client does when it stalls. The real apiserver's side
is tests/integration/test_leader_lease.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from updraft.errors import transient
from updraft.k8s.resources import Fenced, Kube, KubeError, Timeout
from updraft.leader.lease import LeaseKeeper, acquire

NS, NAME = "updraft-system", "updraft-operator"
FAST = dict(duration_s=3, renew_every_s=0.2, renew_deadline_s=1.0)


class LeaseServer:
    """One Lease, shared by the API clients of several threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.hang = threading.Event()
        self.renewals = 0

    def client(self) -> "FakeApi":
        return FakeApi(self)


class FakeApi:
    def __init__(self, server: LeaseServer) -> None:
        self.server = server

    async def call_api(self, path: str, method: str, body: Any = None, **_: Any) -> Any:
        s = self.server
        while s.hang.is_set():  # a half-open connection: no answer, ever
            await asyncio.sleep(0.01)
        with s.lock:
            if method == "GET":
                if s.lease is None:
                    raise ApiException(status=404, reason="Not Found")
                return _copy(s.lease)
            if method == "POST":
                if s.lease is not None:
                    raise ApiException(status=409, reason="AlreadyExists")
                s.version += 1
                s.lease = {**_copy(body), "metadata": {**body["metadata"], "resourceVersion": str(s.version)}}
                return _copy(s.lease)
            if method == "PATCH":
                assert s.lease is not None
                if body["metadata"]["resourceVersion"] != s.lease["metadata"]["resourceVersion"]:
                    raise ApiException(status=409, reason="Conflict")
                s.version += 1
                s.renewals += 1
                s.lease = {"metadata": {**s.lease["metadata"], "resourceVersion": str(s.version)},
                           "spec": {**s.lease["spec"], **body["spec"]}}
                return _copy(s.lease)
        raise AssertionError(method)

    async def close(self) -> None:
        pass


def _copy(obj: Any) -> Any:
    import copy
    return copy.deepcopy(obj)


async def _keeper(server: LeaseServer, **kw: Any) -> tuple[LeaseKeeper, list[str]]:
    events: list[str] = []
    sent = await acquire(server.client(), NS, NAME, "a", duration_s=FAST["duration_s"],
                         renew_every_s=FAST["renew_every_s"])

    async def connect() -> FakeApi:
        return server.client()

    keeper = LeaseKeeper(connect, NS, NAME, "a", acquired_at=sent, on_lost=lambda: events.append("lost"),
                         on_stuck=lambda: events.append("stuck"), grace_s=0.5, timeout_s=0.5, **FAST, **kw)
    keeper.start()
    return keeper, events


async def test_renewals_go_on_while_the_operators_loop_is_blocked() -> None:
    server = LeaseServer()
    keeper, events = await _keeper(server)
    try:
        before = server.renewals
        time.sleep(2.5)  # the reconcile loop busy for 2.5 renew deadlines (CPU work, no await)
        assert keeper.leading() and events == []
        assert server.renewals > before
        assert server.lease is not None and server.lease["spec"]["holderIdentity"] == "a"
    finally:
        await keeper.close()
    assert server.lease["spec"]["holderIdentity"] is None, "a stopping leader releases the Lease"


async def test_a_renewal_that_hangs_ends_leadership_at_the_deadline() -> None:
    server = LeaseServer()
    keeper, events = await _keeper(server)
    try:
        server.hang.set()
        deadline = time.monotonic() + 5
        while keeper.leading() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not keeper.leading()
        while "lost" not in events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert events[:1] == ["lost"]
        assert keeper.lost.is_set()
        while "stuck" not in events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert events == ["lost", "stuck"], "a leader that does not stop after losing is stopped"
    finally:
        server.hang.clear()
        await keeper.close()


async def test_a_lease_taken_by_another_replica_ends_leadership() -> None:
    server = LeaseServer()
    keeper, events = await _keeper(server)
    try:
        with server.lock:
            assert server.lease is not None
            server.version += 1
            server.lease = {"metadata": {**server.lease["metadata"], "resourceVersion": str(server.version)},
                            "spec": {**server.lease["spec"], "holderIdentity": "b"}}
        deadline = time.monotonic() + 5
        while "lost" not in events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert events[:1] == ["lost"] and not keeper.leading()
    finally:
        await keeper.close()
    assert server.lease["spec"]["holderIdentity"] == "b", "a deposed leader does not release another's Lease"


async def test_the_fence_refuses_writes_once_not_leading() -> None:
    server = LeaseServer()
    leading = [True]
    kube = Kube(server.client(), fence=lambda: leading[0])  # type: ignore[arg-type]
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": NAME}, "spec": {}}
    await kube.create(lease, NS)
    leading[0] = False
    with pytest.raises(Fenced):
        await kube.patch("Lease", NAME, NS, {"metadata": {"resourceVersion": "1"}, "spec": {}})
    assert (await kube.get("Lease", NAME, NS))["metadata"]["resourceVersion"] == "1", "reads are not fenced"


async def test_every_call_has_a_deadline_and_its_expiry_is_transient() -> None:
    server = LeaseServer()
    server.hang.set()
    kube = Kube(server.client(), timeout_s=0.2)  # type: ignore[arg-type]
    with pytest.raises(Timeout) as caught:
        await kube.get("Lease", NAME, NS)
    assert transient(caught.value)


async def test_a_lost_connection_is_a_transient_kube_error() -> None:
    import aiohttp

    class Refusing:
        async def call_api(self, *_: Any, **__: Any) -> Any:
            raise aiohttp.ClientConnectionError("connection reset by peer")

    with pytest.raises(KubeError) as caught:
        await Kube(Refusing()).get("Lease", NAME, NS)  # type: ignore[arg-type]
    assert caught.value.status == 0 and transient(caught.value)


async def test_a_standby_waits_a_full_duration_on_its_own_clock_whatever_the_holders_clock_says() -> None:
    """The holder's renewTime says it renewed an hour ago (its clock is behind): a standby still
    waits until it has seen the record unchanged for the Lease's duration."""
    server = LeaseServer()
    await acquire(server.client(), NS, NAME, "a", duration_s=1, renew_every_s=0.2,
                  clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    t0 = time.monotonic()
    await asyncio.wait_for(acquire(server.client(), NS, NAME, "b", duration_s=1, renew_every_s=0.2), timeout=5)
    assert time.monotonic() - t0 >= 0.9
    assert server.lease is not None and server.lease["spec"]["holderIdentity"] == "b"
