"""Each defect the fault tier found (docs/operations.md, "What Updraft guarantees when things
fail"), replayed on purpose against the real handler, the chart's RBAC and the fake kubelet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fault_kubelet import FLAKY, SLOW
from fault_server import Call, Crash, NoFaults
from fault_sim import NS
from fault_world import World

from updraft.model import names

ONE_TASK = """\
w:
  schedule: None
  tasks:
    a: {operator: EmptyOperator, retries: 1, retry_delay: 5, execution_timeout: 60}
"""
TWO_TASKS = """\
w:
  schedule: None
  tasks:
    a: {operator: EmptyOperator}
    b: {operator: EmptyOperator, dependencies: [a]}
"""


class CrashAt(NoFaults):
    """Crash once, right after (or before) the first call that matches."""

    def __init__(self, verb: str, kind: str, *, after: bool = True) -> None:
        self.verb, self.kind, self.after_, self.fired = verb, kind, after, False

    def _maybe(self, call: Call, after: bool) -> None:
        if not self.fired and after == self.after_ and (call.verb, call.kind) == (self.verb, self.kind):
            self.fired = True
            raise Crash()

    def before(self, call: Call) -> None:
        self._maybe(call, False)

    def after(self, call: Call) -> None:
        self._maybe(call, True)


async def test_a_pod_deleted_by_a_person_spends_no_user_retry() -> None:
    w = World()
    await w.workflow("w", ONE_TASK.replace("retries: 1", "retries: 0"))
    await w.run("w", "r")
    await w.tick("r", seconds=4)
    assert w.task("r", "a")["status"] == "RUNNING"
    pod = w.task("r", "a")["podName"]
    w.kubelet.delete_by_hand(w.now, __import__("random").Random(0))  # kubectl delete pod: SIGTERM, exit 143
    await w.tick("r", seconds=40)
    a = w.task("r", "a")
    assert w.status("r")["runState"] == "SUCCESS"
    assert (a["attemptNumber"], a["infraRetries"]) == (1, 1) and a["podName"] != pod


async def test_a_queued_pod_that_vanished_is_relaunched_under_a_new_name_never_the_same() -> None:
    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r")
    await w.reconcile("r")
    first = w.task("r", "a")["podName"]
    w.server.remove("Pod", NS, first)  # gone before anyone saw it (it may have run)
    await w.tick("r", seconds=30)
    assert w.status("r")["runState"] == "SUCCESS"
    assert sorted(w.created()) == sorted({*w.created()})  # no name created twice
    assert w.task("r", "a")["podName"] == names.pod_name("r", "a", 1, 1)


async def test_a_crash_right_after_the_timeouts_pod_delete_keeps_the_timeout() -> None:
    w = World()
    await w.workflow("w", ONE_TASK.replace("retries: 1", "retries: 0"))
    await w.run("w", "r", {"a": SLOW})
    await w.tick("r", seconds=60)
    crash = w.server.injector = CrashAt("delete", "Pod")  # the engine deletes the pod at its deadline
    at_crash = None
    for _ in range(60):
        try:
            await w.tick("r")
        except Crash:
            at_crash = w.task("r", "a")["status"]
            w.restart()
    assert crash.fired and at_crash == "TIMEOUT"  # the engine's own delete, its outcome recorded first
    w.server.injector = NoFaults()
    await w.tick("r", seconds=60)
    a = w.task("r", "a")
    assert (a["status"], a["attemptNumber"]) == ("TIMEOUT", 1)
    assert len(w.created()) == 1  # never relaunched as an infrastructure failure


async def test_a_slow_image_pull_spends_no_user_retry() -> None:
    w = World()
    await w.workflow("w", ONE_TASK.replace("retries: 1", "retries: 0"))
    await w.run("w", "r")
    w.kubelet.slow_pull_rate = 1.0  # the first pod never pulls its image within the pending timeout
    await w.tick("r", seconds=2)
    w.kubelet.slow_pull_rate = 0.0
    await w.tick("r", seconds=660)
    a = w.task("r", "a")
    assert w.status("r")["runState"] == "SUCCESS"
    assert (a["attemptNumber"], a["infraRetries"]) == (1, 1)


async def test_the_pods_deadline_counts_image_pull_but_the_task_timeout_does_not() -> None:
    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r")
    await w.reconcile("r")
    pod = w.pods("r")[0]
    assert pod["spec"]["activeDeadlineSeconds"] == 60 + 15 + 600  # timeout + grace + start allowance


async def test_a_run_whose_workflow_is_gone_fails_with_a_clear_reason() -> None:
    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r")
    await w.server.patch_status("WorkflowRun", "r", NS, {"workflowVersion": w.server.of("Workflow")[0]["status"]["latestVersion"]})
    w.server.remove("Workflow", NS, "w")  # kubectl delete workflow --cascade=orphan
    await w.tick("r", seconds=3)
    status = w.status("r")
    assert status["runState"] == "FAILED"
    assert "was deleted before this run started" in status["errorMessage"]


async def test_a_started_run_goes_on_with_what_it_recorded_when_its_workflow_changes_or_goes() -> None:
    w = World()
    await w.workflow("w", TWO_TASKS, environment={"STAGE": "one"})
    await w.run("w", "r")
    await w.tick("r", seconds=2)
    await w.workflow("w", TWO_TASKS, roleArn="arn:aws:iam::123456789012:role/second", environment={"STAGE": "two"})
    await w.tick("r", seconds=40)
    assert w.status("r")["runState"] == "SUCCESS"
    roles = {p["metadata"]["name"]: {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]}
             for p in w.pods("r")}
    assert len(roles) == 2
    assert {env.get("AWS_ROLE_ARN") for env in roles.values()} == {"arn:aws:iam::123456789012:role/first"}
    assert {env.get("STAGE") for env in roles.values()} == {"one"}


async def test_pod_names_of_two_runs_never_collide() -> None:
    w = World()
    await w.workflow("etl", "etl:\n  schedule: None\n  tasks:\n    daily-load: {operator: EmptyOperator}\n")
    await w.workflow("etl-daily", "etl_daily:\n  schedule: None\n  tasks:\n    load: {operator: EmptyOperator}\n")
    await w.run("etl", "etl")
    await w.run("etl-daily", "etl-daily")
    await w.tick("etl", "etl-daily", seconds=20)
    assert w.status("etl")["runState"] == w.status("etl-daily")["runState"] == "SUCCESS"
    assert len(set(w.created())) == 2


async def test_a_token_secret_left_by_a_crash_never_strands_the_run() -> None:
    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r")
    w.server.injector = CrashAt("create", "Secret")  # the Secret is made, the pod is not
    with pytest.raises(Crash):
        await w.reconcile("r")
    w.restart()
    w.server.injector = NoFaults()
    await w.tick("r", seconds=30)
    assert w.status("r")["runState"] == "SUCCESS"
    assert not w.server.forbidden  # nothing the chart's RBAC refuses was asked


async def test_tokens_go_when_their_attempt_ends_and_superseded_pods_once_recorded() -> None:
    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r", {"a": FLAKY})  # attempt 1 fails, attempt 2 succeeds
    await w.tick("r", seconds=10)
    assert w.task("r", "a")["status"] == "UP_FOR_RETRY"
    assert w.secrets() == []  # attempt 1 ended: its token is gone, its pod stays for its logs
    assert [p["metadata"]["name"] for p in w.pods("r")] == [names.pod_name("r", "a", 1)]
    await w.tick("r", seconds=8)
    assert w.task("r", "a")["attemptNumber"] == 2
    live = [p["metadata"]["name"] for p in w.pods("r") if not p["metadata"].get("deletionTimestamp")]
    assert live == [names.pod_name("r", "a", 2)]  # attempt 1's pod is deleted once attempt 2 is recorded
    await w.tick("r", seconds=60)
    assert w.status("r")["runState"] == "SUCCESS" and w.status("r").get("finalized")
    assert w.secrets() == [] and w.pods("r") == []
    assert w.created("Secret") == [names.token_secret_name(names.pod_name("r", "a", n)) for n in (1, 2)]


async def test_a_refused_pod_is_asked_again_under_the_same_name_when_the_quota_frees() -> None:
    from updraft.k8s.resources import KubeError

    class Quota(NoFaults):
        refusing = True

        def before(self, call: Call) -> None:
            if self.refusing and (call.verb, call.kind) == ("create", "Pod"):
                raise KubeError(403, "Forbidden", 'pods "x" is forbidden: exceeded quota: pods=0')

    w = World()
    await w.workflow("w", ONE_TASK)
    await w.run("w", "r")
    quota = Quota()
    w.server.injector = quota
    await w.tick("r", seconds=20)
    assert w.task("r", "a")["status"] == "NONE" and w.created() == []
    assert w.secrets() == []  # the token made for a refused pod goes with it
    quota.refusing = False
    await w.tick("r", seconds=30)
    assert w.status("r")["runState"] == "SUCCESS"
    assert w.created() == [names.pod_name("r", "a", 1)]  # no infra retry spent, no new name


@pytest.mark.parametrize("seen_failed", [True, False], ids=["gc-patch-seen", "only-its-absence-seen"])
async def test_a_pod_lost_with_its_node_is_relaunched_once_under_a_new_name(seen_failed: bool) -> None:
    """A node deleted under a running pod (an autoscaler, a dead VM; the cluster tier's node loss):
    nothing updates the pod for 40-80 s, then the pod GC marks it Failed with DisruptionTarget
    DeletionByPodGC and deletes it at once (grace 0), so the operator may never see the mark."""
    w = World()
    await w.workflow("w", ONE_TASK.replace("retries: 1, retry_delay: 5, execution_timeout: 60", "retries: 0"))
    await w.run("w", "r")
    await w.tick("r", seconds=4)
    first = w.task("r", "a")["podName"]
    assert w.task("r", "a")["status"] == "RUNNING"
    pod = w.server.objects[("Pod", NS, first)]
    w.kubelet.lives[pod["metadata"]["uid"]].ends_at = None  # its kubelet is gone with the node
    await w.tick("r", seconds=60)
    assert (w.task("r", "a")["status"], w.task("r", "a")["podName"]) == ("RUNNING", first)  # nothing to see yet
    pod["status"]["phase"] = "Failed"
    pod["status"].setdefault("conditions", []).append(
        {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
         "message": "PodGC: node no longer exists"})
    if seen_failed:
        await w.reconcile("r")
    w.server.remove("Pod", NS, first)
    await w.tick("r", seconds=30)
    a = w.task("r", "a")
    assert w.status("r")["runState"] == "SUCCESS"
    assert (a["attemptNumber"], a["infraRetries"]) == (1, 1)  # no user retry spent (it has none)
    assert w.created() == [first, names.pod_name("r", "a", 1, 1)]  # once, under a new name
    assert w.kubelet.executions[("r", "a", 1)] == 1
