"""The run loop: a pool of workers over one queue; a failed pass is retried on the run's own
timer; a finished or deleted run is forgotten; pods find their run by its label."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from harness import NS, Clock, chain, context, make_workflow, start
from fakekube import FakeKube

from updraft.engine import Decision, RunStatus
from updraft.errors import Retry
from updraft.handlers.context import Context
from updraft.handlers.runloop import RunLoop
from updraft.handlers.workqueue import ERROR_DELAYS, TRANSIENT_RETRY_S
from updraft.k8s.resources import KubeError
from updraft.model import names


def _decision(clock: Clock, state: str, done: bool = False, in_s: float | None = 30) -> Decision:
    return Decision(RunStatus.from_dict({"runState": state}), (),
                    clock.now + timedelta(seconds=in_s) if in_s is not None else None, done)


class Scripted:
    """A reconcile that answers from a script per run and records every pass."""

    def __init__(self, answers: dict[str, list[Any]], hold: asyncio.Event | None = None) -> None:
        self.answers, self.hold = answers, hold
        self.passes: list[str] = []
        self.running = 0
        self.most_at_once = 0

    async def __call__(self, ctx: Context, namespace: str, name: str, post: Any) -> Decision | None:
        self.passes.append(name)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hold is not None:
                await self.hold.wait()
            answer = self.answers[name].pop(0) if len(self.answers[name]) > 1 else self.answers[name][0]
            if isinstance(answer, Exception):
                raise answer
            return answer  # type: ignore[no-any-return]
        finally:
            self.running -= 1


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_run_woken_during_its_pass_gets_one_more_pass_never_two_at_once(kube: FakeKube, clock: Clock) -> None:
    hold = asyncio.Event()
    scripted = Scripted({"r": [_decision(clock, "RUNNING")]}, hold)
    loop = RunLoop(context(kube, clock), lambda *a: None, workers=4, reconcile=scripted)
    loop.start()
    try:
        loop.wake(NS, "r")
        await _settle()
        for _ in range(5):
            loop.wake(NS, "r")  # pod events during the pass
        await _settle()
        hold.set()
        await _settle()
        assert scripted.passes == ["r", "r"] and scripted.most_at_once == 1
    finally:
        await loop.close()


async def test_many_runs_are_worked_on_by_at_most_the_pool(kube: FakeKube, clock: Clock) -> None:
    hold = asyncio.Event()
    scripted = Scripted({f"r{i}": [_decision(clock, "RUNNING")] for i in range(10)}, hold)
    loop = RunLoop(context(kube, clock), lambda *a: None, workers=3, reconcile=scripted)
    loop.start()
    try:
        for i in range(10):
            loop.wake(NS, f"r{i}")
        await _settle()
        assert scripted.most_at_once == 3 and loop.queue.depth == 7
        hold.set()
        await _settle()
        assert sorted(scripted.passes) == sorted(f"r{i}" for i in range(10)) and loop.queue.depth == 0
    finally:
        await loop.close()


async def test_a_failed_pass_waits_on_the_runs_own_timer_growing_for_errors_that_are_not_transient(
        kube: FakeKube, clock: Clock) -> None:
    loop = RunLoop(context(kube, clock), lambda *a: None)
    key = (NS, "r")
    assert loop.retry_delay(key, KubeError(503, "ServiceUnavailable", "etcd")) == TRANSIENT_RETRY_S
    assert loop.retry_delay(key, KubeError(429, "TooManyRequests", "slow down")) == TRANSIENT_RETRY_S
    assert loop.retry_delay(key, Retry("not now", delay=7)) == 7
    grown = [loop.retry_delay(key, KubeError(403, "Forbidden", "rbac")) for _ in range(len(ERROR_DELAYS) + 2)]
    assert grown == list(ERROR_DELAYS) + [ERROR_DELAYS[-1]] * 2
    assert loop.retry_delay((NS, "other"), ValueError("a bug")) == ERROR_DELAYS[0]  # counted per run


async def test_a_pass_that_raises_keeps_the_run_on_a_timer_and_a_good_pass_resets_its_delays(
        kube: FakeKube, clock: Clock) -> None:
    scripted = Scripted({"r": [KubeError(403, "Forbidden", "no"), ValueError("a bug"), _decision(clock, "RUNNING")]})
    loop = RunLoop(context(kube, clock), lambda *a: None, reconcile=scripted)
    await loop.run_pass((NS, "r"))
    await loop.run_pass((NS, "r"))
    assert loop.queue.timers == 1 and loop.retry_delay((NS, "r"), ValueError()) == ERROR_DELAYS[2]
    await loop.run_pass((NS, "r"))
    assert loop.queue.timers == 1 and loop.retry_delay((NS, "r"), ValueError()) == ERROR_DELAYS[0]
    loop.queue.close()


async def test_waiting_runs_are_kept_for_a_freed_slot_and_done_or_gone_runs_are_forgotten(
        kube: FakeKube, clock: Clock) -> None:
    scripted = Scripted({"queued": [_decision(clock, "QUEUED"), _decision(clock, "RUNNING")],
                         "done": [_decision(clock, "SUCCESS", done=True, in_s=None)], "gone": [None]})
    ctx = context(kube, clock)
    loop = RunLoop(ctx, lambda *a: None, reconcile=scripted)
    await loop.run_pass((NS, "queued"))
    assert (NS, "queued") in ctx.waiting
    await loop.run_pass((NS, "queued"))
    assert (NS, "queued") not in ctx.waiting and loop.queue.timers == 1
    for name in ("done", "gone"):
        loop.wake(NS, name)  # as a watch event does
        key = await loop.queue.get()
        await loop.run_pass(key)
        loop.queue.done(key)
    assert loop.queue.timers == 1  # only the running one's
    loop.wake_by_label(NS, "gone")  # a late pod event of a forgotten run: nothing to do
    assert loop.queue.depth == 0
    loop.queue.close()


async def test_a_pod_event_finds_a_long_named_run_by_its_label(kube: FakeKube, clock: Clock) -> None:
    scripted = Scripted({})
    loop = RunLoop(context(kube, clock), lambda *a: None, reconcile=scripted)
    long_name = "nightly-" + "x" * 80
    loop.wake(NS, long_name)
    await loop.queue.get()
    loop.queue.done((NS, long_name))
    loop.wake_by_label(NS, names.label_value(long_name))
    assert loop.queue.depth == 1 and await loop.queue.get() == (NS, long_name)
    loop.wake_by_label(NS, "a-run-it-never-saw")
    assert loop.queue.depth == 0


async def test_the_real_reconcile_from_the_loop_creates_a_runs_first_pod(kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    loop = RunLoop(context(kube, clock), lambda *a: None, workers=2)
    loop.start()
    try:
        loop.wake(NS, "w-run")
        for _ in range(100):
            if kube.of("Pod"):
                break
            await asyncio.sleep(0.01)
        assert [p["metadata"]["labels"][names.LABEL_RUN] for p in kube.of("Pod")] == ["w-run"]
    finally:
        await loop.close()
