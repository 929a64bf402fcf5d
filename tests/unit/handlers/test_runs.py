"""The run loop's I/O logic against the FakeKube: a restart with many live runs of a big version
validates nothing; a transient error does not end a run's loop; a refused pod becomes an event and
the status is still written; admission knows every workflow's max_active_runs."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from fakekube import FakeKube
from harness import NS, Clock, chain, context, make_workflow, start, workflow_body

import updraft.versions
from updraft.handlers.runs import reconcile_run
from updraft.handlers.workflows import reconcile_workflow
from updraft.k8s.resources import KubeError
from updraft.model import names
from updraft.model.times import format_ts

Events = list[tuple[str, str, str]]


def recorder() -> tuple[Events, Any]:
    events: Events = []
    return events, lambda obj, type_, reason, message: events.append((type_, reason, message))


async def test_a_restart_with_100_live_runs_of_a_500_task_version_validates_nothing(
        kube: FakeKube, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    await make_workflow(kube, clock, "big", chain(500))
    for i in range(100):
        await start(kube, "big", f"big-run-{i:03d}")
    validated: list[str] = []
    real = updraft.versions.validate
    monkeypatch.setattr(updraft.versions, "validate", lambda text, **kw: validated.append(text) or real(text, **kw))
    ctx = context(kube, clock, max_concurrent_runs=100)  # the restarted operator
    _, post = recorder()
    for i in range(100):
        await reconcile_run(ctx, NS, f"big-run-{i:03d}", post)
    assert validated == []
    assert kube.calls[("get", "WorkflowVersion")] == 1  # loaded once, then from memory
    running = [r for r in kube.of("WorkflowRun") if r["status"]["runState"] == "RUNNING"]
    assert len(running) == 16  # the definition's default max_active_runs; the rest wait
    assert {p["metadata"]["labels"][names.LABEL_TASK] for p in kube.of("Pod")} == {"t0"}


async def test_a_transient_error_reading_the_run_is_retried_not_the_end(kube: FakeKube, clock: Clock) -> None:
    from updraft.errors import Retry

    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    kube.fail[("get", "WorkflowRun")] = KubeError(503, "ServiceUnavailable", "etcd leader changed")
    _, post = recorder()
    with pytest.raises(Retry):
        await reconcile_run(context(kube, clock), NS, "w-run", post)
    assert (await reconcile_run(context(kube, clock), NS, "w-run", post)) is not None
    assert await reconcile_run(context(kube, clock), NS, "gone", post) is None  # NotFound ends the loop


async def test_a_refused_pod_is_an_event_and_the_status_is_still_written(kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    kube.fail[("create", "Pod")] = KubeError(403, "Forbidden", 'pods "x" is forbidden: exceeded quota: zero')
    events, post = recorder()
    decision = await reconcile_run(context(kube, clock), NS, "w-run", post)
    assert decision is not None and not decision.done
    assert decision.requeue_at is not None and (decision.requeue_at - clock.now).total_seconds() <= 10
    assert [e[1] for e in events if e[0] == "Warning"] == ["ActionFailed"] and "exceeded quota" in events[-1][2]
    run = await kube.get("WorkflowRun", "w-run", NS)
    assert run["status"]["runState"] == "RUNNING" and run["status"]["maxActiveRuns"] == 16
    await reconcile_run(context(kube, clock), NS, "w-run", post)  # the quota is gone: the pod is made
    assert [p["metadata"]["name"] for p in kube.of("Pod")] == [names.pod_name("w-run", "t0", 1)]


async def test_admission_counts_every_workflow_with_its_own_limit(kube: FakeKube, clock: Clock) -> None:
    # cluster limit 3; workflow b allows 1 active run and has three older waiting runs: only one of
    # them holds a slot, so a run of workflow a gets one too (it used to wait, as if b's allowed 16)
    one = textwrap.dedent("""
        b:
          max_active_runs: 1
          tasks:
            t0: {operator: EmptyOperator}
    """)
    await make_workflow(kube, clock, "b", one)
    await make_workflow(kube, clock, "a", chain(1, "a"))
    _, post = recorder()
    for i in range(3):
        await start(kube, "b", f"b-{i}")
        clock.advance(seconds=1)
    ctx = context(kube, clock, max_concurrent_runs=3)
    for i in range(3):
        await reconcile_run(ctx, NS, f"b-{i}", post)
    clock.advance(seconds=1)
    await start(kube, "a", "a-0")
    await reconcile_run(ctx, NS, "a-0", post)
    states = {r["metadata"]["name"]: r["status"]["runState"] for r in kube.of("WorkflowRun")}
    assert states == {"b-0": "RUNNING", "b-1": "QUEUED", "b-2": "QUEUED", "a-0": "RUNNING"}


async def test_a_token_secret_left_by_a_crash_does_not_strand_the_run(kube: FakeKube, clock: Clock) -> None:
    # the chart's RBAC lets the operator create Secrets, never read them: a Secret made before a
    # crash (and before its pod) used to answer 409, then 403 on the read, on every pass, forever
    kube.unreadable.add("Secret")
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    pod = names.pod_name("w-run", "t0", 1)
    kube.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": names.token_secret_name(pod)}}, NS)
    events, post = recorder()
    ctx = context(kube, clock, task_api_url="http://updraft-task-api:8081")
    await reconcile_run(ctx, NS, "w-run", post)
    assert [p["metadata"]["name"] for p in kube.of("Pod")] == [pod]
    assert [e for e in events if e[0] == "Warning"] == []


async def test_a_cleaned_up_run_is_marked_finalized_and_needs_no_more_passes(kube: FakeKube, clock: Clock) -> None:
    from updraft.handlers.runloop import needs_pass

    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    _, post = recorder()
    ctx = context(kube, clock, pod_cleanup_delay_s=60)
    await reconcile_run(ctx, NS, "w-run", post)
    pod = kube.of("Pod")[0]
    await kube.patch_status("Pod", pod["metadata"]["name"], NS, {"phase": "Succeeded", "containerStatuses": [
        {"state": {"terminated": {"exitCode": 0, "message": '{"state": "success"}',
                                  "startedAt": format_ts(clock.now), "finishedAt": format_ts(clock.now)}}}]})
    await reconcile_run(ctx, NS, "w-run", post)
    run = await kube.get("WorkflowRun", "w-run", NS)
    assert run["status"]["runState"] == "SUCCESS" and needs_pass(run["status"])
    clock.advance(seconds=61)
    await reconcile_run(ctx, NS, "w-run", post)  # the pods go
    decision = await reconcile_run(ctx, NS, "w-run", post)
    run = await kube.get("WorkflowRun", "w-run", NS)
    assert decision is not None and decision.done and kube.of("Pod") == []
    assert run["status"]["finalized"] is True and not needs_pass(run["status"])


async def test_task_pods_get_the_task_apis_ca_when_it_speaks_https(kube: FakeKube, clock: Clock) -> None:
    from dataclasses import replace

    from updraft.podspec.trust import CA_FILE_ENV

    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    _, post = recorder()
    ctx = replace(context(kube, clock, task_api_url="https://updraft-operator.updraft-system.svc:8081"),
                  task_api_ca_pem="-----BEGIN CERTIFICATE-----\n")
    await reconcile_run(ctx, NS, "w-run", post)
    (pod,) = kube.of("Pod")
    assert pod["metadata"]["annotations"][names.ANNOTATION_TASK_API_CA] == "-----BEGIN CERTIFICATE-----\n"
    assert CA_FILE_ENV in {e["name"] for e in pod["spec"]["containers"][0]["env"]}


async def test_a_task_pod_is_told_where_to_ship_its_log_and_the_status_names_the_stream(
        kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    _, post = recorder()
    await reconcile_run(context(kube, clock, logs_backend="cloudwatch"), NS, "w-run", post)
    workflow = await kube.get("Workflow", "w", NS)
    wid = names.workflow_id("w", workflow["metadata"]["uid"])
    env = {e["name"]: e.get("value") for e in kube.of("Pod")[0]["spec"]["containers"][0]["env"]}
    stream = f"workflow_id={wid}/run_id=w-run/task_id=t0/attempt=1.log"
    assert (env[names.ENV_LOG_GROUP], env[names.ENV_LOG_STREAM]) == (f"/aws/mwaa-serverless/{wid}/", stream)
    run = await kube.get("WorkflowRun", "w-run", NS)
    assert run["status"]["taskInstances"][0]["logStream"] == stream
    await start(kube, "w", "w-run2")
    await reconcile_run(context(kube, clock, logs_backend="none"), NS, "w-run2", post)
    pod = next(p for p in kube.of("Pod") if p["metadata"]["name"].startswith("w-run2"))
    assert names.ENV_LOG_GROUP not in {e["name"] for e in pod["spec"]["containers"][0]["env"]}


async def test_a_killed_attempt_gets_the_tail_of_its_pod_log_in_its_error(kube: FakeKube, clock: Clock) -> None:
    await make_workflow(kube, clock, "w", chain(1, "w"))
    await start(kube, "w", "w-run")
    _, post = recorder()
    await reconcile_run(context(kube, clock, logs_backend="cloudwatch"), NS, "w-run", post)
    pod = kube.of("Pod")[0]
    name = pod["metadata"]["name"]
    kube.pod_logs[name] = "".join(f"line {i}\n" for i in range(200)) + "allocating 4 GiB\n"
    await kube.patch_status("Pod", name, NS, {"phase": "Failed", "containerStatuses": [{"name": "task", "state": {
        "terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": format_ts(clock.now),
                       "finishedAt": format_ts(clock.now)}}}]})
    await reconcile_run(context(kube, clock, logs_backend="cloudwatch"), NS, "w-run", post)
    task = (await kube.get("WorkflowRun", "w-run", NS))["status"]["taskInstances"][0]
    assert task["status"] == "FAILED" and task["logStatus"] == "INCOMPLETE"
    assert task["errorMessage"].startswith("the task ran out of memory (OOMKilled)\n--- the last lines of its log ---\n")
    assert task["errorMessage"].endswith("line 199\nallocating 4 GiB") and "line 100\n" not in task["errorMessage"]
    await reconcile_run(context(kube, clock, logs_backend="cloudwatch"), NS, "w-run", post)  # once, not again
    again = (await kube.get("WorkflowRun", "w-run", NS))["status"]["taskInstances"][0]
    assert again["errorMessage"] == task["errorMessage"]
