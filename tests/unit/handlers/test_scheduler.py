"""The schedule timer against the FakeKube with a fake clock: exactly one run per fire time, named
from it, across restarts and replays; no backfill after downtime beyond the latest missed fire
time within the starting deadline. Minutes pass in microseconds."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from typing import Any

from fakekube import FakeKube
from harness import NS, Clock, context, workflow_body

from updraft.handlers.scheduler import tick
from updraft.handlers.workflows import reconcile_workflow
from updraft.model import names
from updraft.model.times import format_ts
from updraft.model.workflow import Workflow

EVERY_MINUTE = textwrap.dedent("""
    tick:
      schedule: '* * * * *'
      tasks:
        ok_t: {operator: EmptyOperator}
""")


async def step(kube: FakeKube, clock: Clock) -> datetime | None:
    """One pass of the timer by a fresh operator process (a restart each time): its status written."""
    patch, wake_at, _ = await tick(context(kube, clock), Workflow.from_body(await kube.get("Workflow", "tick", NS)))
    if patch:
        await kube.patch_status("Workflow", "tick", NS, patch)
    return wake_at


def fire_times(kube: FakeKube) -> list[str]:
    return sorted(r["spec"]["logicalDate"] for r in kube.of("WorkflowRun"))


async def test_every_minute_exactly_once_across_restarts_and_replays(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("tick", EVERY_MINUTE, timezone="Asia/Kathmandu"), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    clock.advance(seconds=20)  # 08:00:20
    wake = await step(kube, clock)
    assert fire_times(kube) == [] and wake == clock.now.replace(second=0) + timedelta(minutes=1)  # no backfill
    clock.now = wake  # the timer wakes at the fire time
    assert await step(kube, clock) == wake + timedelta(minutes=1)
    assert await step(kube, clock) == wake + timedelta(minutes=1)  # a replayed event: nothing new
    assert fire_times(kube) == [format_ts(wake)]
    run = kube.of("WorkflowRun")[0]
    assert run["metadata"]["name"] == names.scheduled_run_name("tick", wake)
    assert run["spec"]["workflowVersion"] == status["latestVersion"]
    for minute in (1, 2):
        clock.now = wake + timedelta(minutes=minute, seconds=0.4)
        await step(kube, clock)
        await step(kube, clock)
    assert fire_times(kube) == [format_ts(wake + timedelta(minutes=m)) for m in range(3)]
    wf = (await kube.get("Workflow", "tick", NS))["status"]
    assert wf["lastScheduledTime"] == format_ts(wake + timedelta(minutes=2))
    assert wf["nextScheduledTime"] == format_ts(wake + timedelta(minutes=3))


async def test_after_downtime_only_the_latest_missed_fire_time_runs(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("tick", EVERY_MINUTE), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    first = await step(kube, clock)
    assert first is not None
    clock.now = first + timedelta(minutes=3, seconds=10)  # down for three fire times
    await step(kube, clock)
    assert fire_times(kube) == [format_ts(first + timedelta(minutes=3))]
    clock.now = first + timedelta(minutes=30, seconds=30)  # down for 27 more: one run, not 27
    await step(kube, clock)
    assert fire_times(kube) == [format_ts(first + timedelta(minutes=m)) for m in (3, 30)]


async def test_a_manual_only_workflow_has_no_timer(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("tick", EVERY_MINUTE, triggerMode="manual_only"), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    assert await step(kube, clock) is None
    clock.advance(minutes=5)
    assert await step(kube, clock) is None and fire_times(kube) == []


ONE_AT_A_TIME = EVERY_MINUTE.replace("  schedule: '* * * * *'\n", "  schedule: '* * * * *'\n  max_active_runs: 1\n")


async def test_a_slow_workflow_at_max_active_runs_builds_no_backlog(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("tick", ONE_AT_A_TIME), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    first = await step(kube, clock)
    assert first is not None
    clock.now = first
    await step(kube, clock)
    only = kube.of("WorkflowRun")[0]["metadata"]["name"]
    await kube.patch_status("WorkflowRun", only, NS, {"runState": "RUNNING"})
    for minute in (1, 2, 3):  # the run is still going: no new runs pile up
        clock.now = first + timedelta(minutes=minute, seconds=1)
        await step(kube, clock)
    assert len(kube.of("WorkflowRun")) == 1
    await kube.patch_status("WorkflowRun", only, NS, {"runState": "SUCCESS"})
    await step(kube, clock)  # woken by the run's end: the latest fire time gets its run
    assert fire_times(kube) == [format_ts(first), format_ts(first + timedelta(minutes=3))]


async def test_finished_runs_beyond_the_history_limit_are_deleted(kube: FakeKube, clock: Clock) -> None:
    from updraft.handlers.scheduler import prune_runs

    await kube.create(workflow_body("tick", EVERY_MINUTE, runHistoryLimit=2), NS)
    for i in range(4):
        kube.put({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": f"tick-{i}"},
                  "spec": {"workflowName": "tick"},
                  "status": {"runState": "FAILED" if i == 3 else "SUCCESS",
                             "completedOn": format_ts(clock.now + timedelta(minutes=i))}}, NS)
    kube.put({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": "tick-live"},
              "spec": {"workflowName": "tick"}, "status": {"runState": "RUNNING"}}, NS)
    deleted = await prune_runs(context(kube, clock), Workflow.from_body(await kube.get("Workflow", "tick", NS)))
    assert deleted == ["tick-0", "tick-1"]
    assert sorted(r["metadata"]["name"] for r in kube.of("WorkflowRun")) == ["tick-2", "tick-3", "tick-live"]
    clock.advance(days=31)  # and none older than the maximum age (30 days by default)
    await prune_runs(context(kube, clock), Workflow.from_body(await kube.get("Workflow", "tick", NS)))
    assert [r["metadata"]["name"] for r in kube.of("WorkflowRun")] == ["tick-live"]


async def test_a_schedule_loop_pass_fires_what_is_due_and_a_gone_workflow_is_forgotten(
        kube: FakeKube, clock: Clock) -> None:
    from updraft.handlers.scheduleloop import ScheduleLoop

    await kube.create(workflow_body("tick", EVERY_MINUTE), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    loop = ScheduleLoop(context(kube, clock))  # no kopf index attached: it reads with a GET
    clock.advance(seconds=20)
    await loop.run_pass((NS, "tick"))
    assert fire_times(kube) == [] and loop.queue.timers == 1  # woken at the next fire time
    clock.advance(seconds=40)  # 08:01:00
    await loop.run_pass((NS, "tick"))
    assert fire_times(kube) == [format_ts(clock.now)]
    assert (await kube.get("Workflow", "tick", NS))["status"]["lastScheduledTime"] == format_ts(clock.now)
    await kube.delete("Workflow", "tick", NS)
    await loop.run_pass((NS, "tick"))
    assert loop.queue.timers == 0 and len(fire_times(kube)) == 1
    loop.queue.close()


async def _due_loop(kube: FakeKube, clock: Clock) -> Any:
    """A schedule loop over workflow `tick`, at its fire time 08:01:00."""
    from updraft.handlers.scheduleloop import ScheduleLoop

    await kube.create(workflow_body("tick", EVERY_MINUTE), NS)
    status = await reconcile_workflow(context(kube, clock), await kube.get("Workflow", "tick", NS))
    await kube.patch_status("Workflow", "tick", NS, status)
    loop = ScheduleLoop(context(kube, clock))
    clock.advance(seconds=20)
    await loop.work((NS, "tick"))  # the schedule counts from 08:00:20
    clock.advance(seconds=40)
    return loop


async def test_on_a_busy_minute_the_run_is_created_first_and_the_status_written_behind_the_other_fires(
        kube: FakeKube, clock: Clock) -> None:
    loop = await _due_loop(kube, clock)
    loop.queue.add((NS, "other"))  # another workflow's fire waits for a worker
    assert await loop.work((NS, "tick")) is None
    assert fire_times(kube) == [format_ts(clock.now)]
    assert "lastScheduledTime" not in (await kube.get("Workflow", "tick", NS))["status"]  # held
    assert await loop.queue.get() == (NS, "other")  # the waiting fire goes first ...
    loop.queue.done((NS, "other"))
    assert await loop.queue.get() == (NS, "tick")  # ... then the held status
    loop.queue.done((NS, "tick"))
    creates = kube.calls[("create", "WorkflowRun")]
    assert await loop.work((NS, "tick")) == 60.0  # the next fire time, a minute on
    assert (await kube.get("Workflow", "tick", NS))["status"]["lastScheduledTime"] == format_ts(clock.now)
    assert kube.calls[("create", "WorkflowRun")] == creates and fire_times(kube) == [format_ts(clock.now)]
    loop.queue.close()


async def test_a_quiet_minute_writes_the_status_in_the_same_pass(kube: FakeKube, clock: Clock) -> None:
    loop = await _due_loop(kube, clock)
    assert await loop.work((NS, "tick")) == 60.0
    assert (await kube.get("Workflow", "tick", NS))["status"]["lastScheduledTime"] == format_ts(clock.now)
    assert loop.queue.depth == 0
    loop.queue.close()


async def test_a_workflow_changed_while_its_status_was_held_gets_a_full_pass_soon(kube: FakeKube, clock: Clock) -> None:
    from updraft.handlers.scheduleloop import CHANGED_RECHECK_S

    loop = await _due_loop(kube, clock)
    loop.queue.add((NS, "other"))
    await loop.work((NS, "tick"))
    await kube.patch("Workflow", "tick", NS, {"spec": {"triggerMode": "manual_only"}})
    assert await loop.work((NS, "tick")) == CHANGED_RECHECK_S
    loop.queue.close()
