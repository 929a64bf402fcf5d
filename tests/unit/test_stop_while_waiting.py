"""A standby operator waiting for the leader Lease stops as soon as it is told to (a pod's
SIGTERM), instead of waiting out its grace period."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from updraft.handlers.app import _unless_stopped


async def test_work_that_finishes_wins() -> None:
    async def work() -> None:
        await asyncio.sleep(0)

    assert await _unless_stopped(work(), asyncio.Event()) is True


async def test_a_stop_flag_cancels_the_wait() -> None:
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    assert await asyncio.wait_for(_unless_stopped(forever(), stop), 5) is False
    assert cancelled.is_set()


async def test_sigterm_sets_the_stop_flag() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(_unless_stopped(asyncio.sleep(3600), stop), 5) is False
    assert stop.is_set()
    # the handler is gone afterwards: kopf installs its own
    assert asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM) is False


async def test_the_works_own_failure_is_raised() -> None:
    async def broken() -> None:
        raise RuntimeError("lease API exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        await _unless_stopped(broken(), asyncio.Event())
