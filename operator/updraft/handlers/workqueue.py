"""A queue of keys to work on (runs to reconcile, workflows to schedule), and a fixed pool of
workers over it (`WorkerPool`):

- a key waits in the queue at most once, however often it is added;
- a key is worked on by one worker at a time; added while being worked on, it is worked on
  again once that pass is done (so no change goes unseen, and no two passes race);
- a key may be added for later (a timer): the pass that ends sets the next one, replacing any
  earlier timer of the key.

Time is the event loop's (`loop.call_later`), so tests run it on a real loop with short delays.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Generic, Hashable, TypeVar

from updraft import metrics
from updraft.errors import Retry, transient
from updraft.k8s.resources import KubeError

K = TypeVar("K", bound=Hashable)
log = logging.getLogger("updraft.workers")
TRANSIENT_RETRY_S = 5.0  # a pass whose Kubernetes call failed transiently looks again this soon
ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # after the 1st, 2nd ... failure in a row of any other kind


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


class WorkerPool(Generic[K]):
    """`workers` tasks taking keys from one WorkQueue. A pass is `work(key)`, which returns the
    delay to the key's next pass (None: no timer). A pass that raises is retried on the key's own
    timer (`retry_delay`); nothing else waits for it, and the pool never stops on an error."""

    name = "work"  # the `loop` label of its metrics, and its logs' word for itself
    error_kind = "work"  # the `kind` label of updraft_reconcile_errors_total

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.queue: WorkQueue[K] = WorkQueue()
        self._failures: dict[K, int] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def work(self, key: K) -> float | None:
        raise NotImplementedError

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self.workers)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.queue.close()

    def add(self, key: K) -> None:
        self.queue.add(key)
        metrics.QUEUE_DEPTH.labels(self.name).set(self.queue.depth)

    def forget(self, key: K) -> None:
        self.queue.cancel_timer(key)
        self._failures.pop(key, None)

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            try:
                await self.run_pass(key)
            finally:
                self.queue.done(key)
                metrics.QUEUE_DEPTH.labels(self.name).set(self.queue.depth)

    async def run_pass(self, key: K) -> None:
        """One pass of `key`, then its next timer (or none)."""
        metrics.PASSES.labels(self.name).inc()
        try:
            delay = await self.work(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a failed pass never stops the pool: the key is looked at again
            metrics.RECONCILE_ERRORS.labels(self.error_kind).inc()
            retry = self.retry_delay(key, e)
            if isinstance(e, (Retry, KubeError)):
                log.warning("%s %s: %s; again in %.0f s", self.name, key, e, retry)
            else:
                log.exception("%s %s: the pass failed; again in %.0f s", self.name, key, retry)
            self.queue.later(key, retry)
            return
        self._failures.pop(key, None)
        if delay is not None:
            self.queue.later(key, delay)

    def retry_delay(self, key: K, error: Exception) -> float:
        """How long a key whose pass failed with `error` waits for its next one."""
        if isinstance(error, Retry):
            return float(error.delay)
        if isinstance(error, KubeError) and transient(error):
            return TRANSIENT_RETRY_S
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return ERROR_DELAYS[min(failures, len(ERROR_DELAYS) - 1)]
