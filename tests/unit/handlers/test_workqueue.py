"""The run loop's work queue: each key once in the queue, one worker per key, a key added while
worked on is worked on again after, and timers that the last one set wins."""

from __future__ import annotations

import asyncio

from updraft.handlers.workqueue import WorkQueue


async def test_a_key_added_many_times_waits_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a", "b"):
        q.add(key)
    assert q.depth == 2
    assert [await q.get(), await q.get()] == ["a", "b"]
    assert q.depth == 0


async def test_a_key_added_while_worked_on_is_worked_on_again_after_never_at_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")  # a change arrives during the pass
    assert q.depth == 0  # no second worker may take it meanwhile
    q.done(key)
    assert q.depth == 1 and await q.get() == "a"
    q.done("a")
    assert q.depth == 0


async def test_a_worker_waits_for_a_key() -> None:
    q: WorkQueue[str] = WorkQueue()
    getting = asyncio.ensure_future(q.get())
    await asyncio.sleep(0.01)
    assert not getting.done()
    q.add("a")
    assert await asyncio.wait_for(getting, 1) == "a"


async def test_a_timer_adds_its_key_and_a_new_timer_replaces_the_old() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.later("a", 0.01)
    q.later("b", 30)
    q.later("b", 0.02)  # the pass that ended knows better: sooner
    q.later("c", 0.01)
    q.later("c", 30)  # ... or later
    await asyncio.sleep(0.1)
    assert q.depth == 2 and {await q.get(), await q.get()} == {"a", "b"}
    assert q.timers == 1  # c's
    q.cancel_timer("c")
    assert q.timers == 0


async def test_closing_drops_every_timer() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.later("a", 0.01)
    q.close()
    await asyncio.sleep(0.05)
    assert q.depth == 0 and q.timers == 0
