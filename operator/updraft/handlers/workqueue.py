"""A queue of keys to work on (runs to reconcile), shared by a fixed number of workers:

- a key waits in the queue at most once, however often it is added;
- a key is worked on by one worker at a time; added while being worked on, it is worked on
  again once that pass is done (so no change goes unseen, and no two passes race);
- a key may be added for later (a timer): the pass that ends sets the next one, replacing any
  earlier timer of the key.

Time is the event loop's (`loop.call_later`), so tests run it on a real loop with short delays.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self) -> None:
        self._ready: deque[K] = deque()
        self._queued: set[K] = set()
        self._active: set[K] = set()
        self._again: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._nonempty = asyncio.Event()

    def add(self, key: K) -> None:
        """Work on `key` soon (once, however often it is added before a worker takes it)."""
        if key in self._active:
            self._again.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._nonempty.set()

    def later(self, key: K, delay_s: float) -> None:
        """Work on `key` after `delay_s` seconds; replaces the key's earlier timer, if any."""
        self.cancel_timer(key)
        self._timers[key] = asyncio.get_running_loop().call_later(max(0.0, delay_s), self._fire, key)

    def cancel_timer(self, key: K) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def get(self) -> K:
        """The next key to work on; the caller must call `done(key)` after its pass."""
        while not self._ready:
            self._nonempty.clear()
            await self._nonempty.wait()
        key = self._ready.popleft()
        self._queued.discard(key)
        self._active.add(key)
        if not self._ready:
            self._nonempty.clear()
        return key

    def done(self, key: K) -> None:
        self._active.discard(key)
        if key in self._again:
            self._again.discard(key)
            self.add(key)

    @property
    def depth(self) -> int:
        """Keys waiting for a worker (not those being worked on, nor those on a timer)."""
        return len(self._ready)

    @property
    def timers(self) -> int:
        return len(self._timers)

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
