"""Scheduled runs on the real cluster: a `* * * * *` workflow's timer wakes at the fire time and
creates the run named from it; after an operator restart the next fire time gets its run, once.
(Exactly once per fire time across restarts, replays and downtime is proven with a fake clock in
tests/unit/handlers/test_scheduler.py; here the real timer, apiserver and metrics.)"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from operator_harness import OperatorProcess, scrape, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(240)]


async def test_every_minute_exactly_once_across_a_restart(operator: OperatorProcess, api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube
    from updraft.model.names import scheduled_run_name

    kube = Kube(api)
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": "tick"},
                       "spec": {"roleArn": "arn:aws:iam::123456789012:role/t", "timezone": "Asia/Kathmandu",
                                "definition": textwrap.dedent("""
                                    tick:
                                      schedule: '* * * * *'
                                      tasks:
                                        ok_t: {operator: EmptyOperator}
                                """)}}, namespace)

    async def scheduled(n: int) -> list[dict[str, Any]] | None:
        runs = [r for r in await kube.list("WorkflowRun", namespace) if r["spec"].get("runType") == "SCHEDULED"]
        return runs if len(runs) >= n else None

    first = (await wait_for(lambda: scheduled(1), timeout=90, what="first scheduled run"))[0]
    fire = datetime.fromisoformat(first["spec"]["logicalDate"].replace("Z", "+00:00"))
    assert fire.second == 0 and first["metadata"]["name"] == scheduled_run_name("tick", fire)
    created = datetime.fromisoformat(first["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    assert timedelta(0) <= created - fire < timedelta(seconds=3)  # the timer wakes at the fire time
    async def recorded() -> dict[str, Any] | None:  # the run is created first, then the status written
        wf = await kube.get("Workflow", "tick", namespace)
        return wf if (wf.get("status") or {}).get("lastScheduledTime") else None

    wf = await wait_for(recorded, timeout=15, what="the workflow's lastScheduledTime")
    assert wf["status"]["lastScheduledTime"] == first["spec"]["logicalDate"]
    assert wf["status"]["nextScheduledTime"] == (fire + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    delay = scrape(operator.metrics_port)
    assert delay['updraft_schedule_delay_seconds_count{workflow="tick"}'] == 1
    assert delay['updraft_schedule_delay_seconds_bucket{le="1.0",workflow="tick"}'] == 1  # within 1 s of the fire time
    operator.kill()
    operator.start()
    runs = await wait_for(lambda: scheduled(2), timeout=130, what="the run of the next fire time")
    fires = sorted(datetime.fromisoformat(r["spec"]["logicalDate"].replace("Z", "+00:00")) for r in runs)
    assert fires[:2] == [fire, fire + timedelta(minutes=1)]
    assert len({r["metadata"]["name"] for r in runs}) == len(runs)
    await wait_for(lambda: _all_done(kube, namespace), timeout=60, what="scheduled runs finished")
    now = datetime.now(timezone.utc)
    assert all(f <= now for f in fires)


async def _all_done(kube: Any, namespace: str) -> bool:
    runs = await kube.list("WorkflowRun", namespace)
    return all((r.get("status") or {}).get("runState") == "SUCCESS" for r in runs[:2])
