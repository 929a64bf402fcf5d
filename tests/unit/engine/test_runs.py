"""Whole runs through the engine: reconcile -> apply actions to a simulated pod set -> advance
a fake clock, until the run ends."""

from __future__ import annotations

from updraft.model.names import pod_name

from datetime import timedelta

from updraft.engine import EngineSettings, Outcome, RunView, reconcile

from sim import T0, Sim, graph, task


def pn(task: str, attempt: int, reschedule: int = 0) -> str:
    """A pod name of run-1 (model.names.pod_name)."""
    return pod_name("run-1", task, attempt, reschedule)


def states(status: object) -> dict[str, str]:
    return {t: ti.status for t, ti in status.tasks.items()}  # type: ignore[attr-defined]


def test_fan_out_fan_in_succeeds_in_order() -> None:
    g = graph(task("start"), task("a", "start"), task("b", "start"), task("c", "start"), task("join", "a", "b", "c"))
    sim = Sim(g)
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS"
    assert states(status) == dict.fromkeys(g.tasks, "SUCCESS")
    assert sim.created[0] == pn("start", 1) and sim.created[-1] == pn("join", 1)
    assert sorted(sim.created[1:4]) == [pn("a", 1), pn("b", 1), pn("c", 1)]
    assert len(sim.created) == 5  # one pod per attempt, never twice
    assert status.started_on == T0 and status.completed_on is not None and status.duration > 0
    join, fan = status.tasks["join"], [status.tasks[t] for t in "abc"]
    assert join.started_at >= max(t.ended_at for t in fan)  # the join waited for all three


def test_failing_task_with_retries_fails_the_run_with_upstream_failed_downstream() -> None:
    g = graph(task("load", retries=2, retry_delay=timedelta(seconds=30)), task("report", "load"),
              task("publish", "report"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "boom") if t == "load" else Outcome("success"))
    status = sim.run_until_done()
    assert status.run_state == "FAILED"
    assert status.error_message == "Workflow execution failed"
    load = status.tasks["load"]
    assert (load.status, load.attempt, load.error) == ("FAILED", 3, "boom")
    assert states(status)["report"] == states(status)["publish"] == "UPSTREAM_FAILED"
    assert sim.created == [pn("load", 1), pn("load", 2), pn("load", 3)]
    assert sim.events().count("TaskUpForRetry") == 2


def test_retry_waits_for_retry_delay() -> None:
    g = graph(task("t", retries=1, retry_delay=timedelta(seconds=60)))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "x") if a == 1 else Outcome("success"))
    sim.step()
    sim.advance(timedelta(seconds=1))
    sim.step()
    sim.advance(timedelta(seconds=10))
    d = sim.step()
    assert d.status.tasks["t"].status == "UP_FOR_RETRY"
    assert d.requeue_at == sim.now + timedelta(seconds=60)
    sim.advance(timedelta(seconds=59))
    assert sim.step().status.tasks["t"].status == "UP_FOR_RETRY"
    sim.advance(timedelta(seconds=1))
    assert sim.step().status.tasks["t"].status == "QUEUED"
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS" and status.tasks["t"].attempt == 2


def test_all_done_join_runs_after_a_failure_and_decides_the_run() -> None:
    g = graph(task("a"), task("b"), task("mid", "a"), task("cleanup", "mid", "b", trigger_rule="all_done"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "no") if t == "a" else Outcome("success"))
    status = sim.run_until_done()
    assert states(status) == {"a": "FAILED", "b": "SUCCESS", "mid": "UPSTREAM_FAILED", "cleanup": "SUCCESS"}
    assert status.run_state == "SUCCESS"  # Airflow's leaf rule: the only leaf (cleanup) succeeded


def test_a_failed_leaf_fails_the_run_even_when_another_leaf_succeeds() -> None:
    g = graph(task("a"), task("b"), task("alert", "a", trigger_rule="one_failed"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "no") if t == "b" else Outcome("success"))
    status = sim.run_until_done()
    assert states(status) == {"a": "SUCCESS", "b": "FAILED", "alert": "SKIPPED"}
    assert status.run_state == "FAILED"


def test_one_failed_alert_branch_runs_only_on_failure() -> None:
    g = graph(task("work"), task("alert", "work", trigger_rule="one_failed"), task("ok", "work"))
    quiet = Sim(g).run_until_done()
    assert states(quiet)["alert"] == "SKIPPED" and quiet.run_state == "SUCCESS"
    loud = Sim(g, script=lambda t, a, r: Outcome("failed", "x") if t == "work" else Outcome("success"))
    status = loud.run_until_done()
    assert states(status) == {"work": "FAILED", "alert": "SUCCESS", "ok": "UPSTREAM_FAILED"}
    assert status.run_state == "FAILED"


def test_timeout_is_enforced_by_the_engine_clock_and_retried() -> None:
    g = graph(task("slow", retries=1, retry_delay=timedelta(0), execution_timeout=timedelta(seconds=60)))
    sim = Sim(g, script=lambda t, a, r: "hang" if a == 1 else Outcome("success"),
              settings=EngineSettings(timeout_grace=timedelta(seconds=5)))
    status = sim.run_until_done(dt=timedelta(seconds=10))
    assert status.run_state == "SUCCESS"
    assert status.tasks["slow"].attempt == 2
    assert sim.created == [pn("slow", 1), pn("slow", 2)]


def test_timeout_without_retries_is_timeout_and_fails_the_run() -> None:
    g = graph(task("slow", execution_timeout=timedelta(seconds=30)), task("after", "slow"))
    sim = Sim(g, script=lambda t, a, r: "hang")
    status = sim.run_until_done(dt=timedelta(seconds=20))
    assert states(status) == {"slow": "TIMEOUT", "after": "UPSTREAM_FAILED"}
    assert status.run_state == "FAILED" and status.error_message == "Workflow execution failed"


def test_stop_cancels_deletes_pods_and_ends_stopped() -> None:
    g = graph(task("a"), task("b", "a"))
    sim = Sim(g, script=lambda t, a, r: "hang")
    sim.step()
    sim.advance(timedelta(seconds=5))
    sim.step()
    sim.stop = True
    d = sim.step()
    assert d.status.run_state == "STOPPING"
    assert [a.pod_name for a in d.actions if type(a).__name__ == "DeletePod"] == [pn("a", 1)]
    sim.advance(timedelta(seconds=1))
    d = sim.step()
    assert d.status.run_state == "STOPPED"
    assert states(d.status) == {"a": "CANCELLED", "b": "CANCELLED"}
    assert sim.created == [pn("a", 1)]


def test_sensor_reschedule_relaunches_at_the_reschedule_time() -> None:
    g = graph(task("wait", mode="reschedule", poke_interval=timedelta(seconds=60),
                   execution_timeout=timedelta(seconds=30)), task("after", "wait"))

    def script(t: str, a: int, r: int) -> object:
        if t == "wait" and r < 2:
            return Outcome("up_for_reschedule", reschedule_at=T0 + timedelta(minutes=2 * (r + 1)))
        return Outcome("success")

    sim = Sim(g, script=script)
    status = sim.run_until_done(dt=timedelta(seconds=15))
    assert status.run_state == "SUCCESS"
    assert [n for n in sim.created if "-wait-" in n] == [pn("wait", 1), pn("wait", 1, 1), pn("wait", 1, 2)]
    wait = status.tasks["wait"]
    assert (wait.attempt, wait.reschedules, wait.started_at) == (1, 2, T0 + timedelta(seconds=15))
    # each poke got its own execution_timeout: the 4 minutes of waiting did not time the sensor out
    assert "TaskTimeout" not in sim.events()


def test_eviction_is_retried_without_spending_user_retries() -> None:
    g = graph(task("t", retries=0))
    sim = Sim(g, script=lambda t, a, r: "evict" if r == 0 else Outcome("success"))
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS"
    assert (status.tasks["t"].attempt, status.tasks["t"].infra_retries) == (1, 1)
    assert sim.created == [pn("t", 1), pn("t", 1, 1)]


def test_a_vanished_pod_is_relaunched() -> None:
    sim = Sim(graph(task("t")), script=lambda t, a, r: "vanish" if r == 0 else Outcome("success"))
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS" and status.tasks["t"].infra_retries == 1


def test_infrastructure_failures_are_bounded() -> None:
    sim = Sim(graph(task("t", retries=3)), script=lambda t, a, r: "evict", settings=EngineSettings(max_infra_retries=2))
    status = sim.run_until_done()
    t = status.tasks["t"]
    assert t.status == "FAILED" and "infrastructure" in (t.error or "")
    assert (t.attempt, len(sim.created)) == (1, 3)  # the user's retries were not touched


def test_a_pod_that_never_starts_is_relaunched_then_fails_without_spending_retries() -> None:
    sim = Sim(graph(task("t", retries=2)), script=lambda t, a, r: "stuck",
              settings=EngineSettings(pending_timeout=timedelta(minutes=2)))
    status = sim.run_until_done(dt=timedelta(seconds=30))
    t = status.tasks["t"]
    assert t.status == "FAILED" and "did not start within 120s" in (t.error or "")
    assert (t.attempt, t.infra_retries) == (1, 3)  # four pods of attempt 1; the user's retries untouched
    assert status.completed_on == T0 + timedelta(minutes=8)


def test_queued_until_admitted() -> None:
    sim = Sim(graph(task("t")), admitted=False)
    d = sim.step()
    assert d.status.run_state == "QUEUED" and sim.created == []
    sim.admitted = True
    assert sim.step().status.run_state == "RUNNING" and sim.created == [pn("t", 1)]


def test_restart_mid_run_adopts_pods_and_never_duplicates() -> None:
    g = graph(task("a"), task("b", "a", retries=1, retry_delay=timedelta(0)), task("c", "b"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "x") if (t, a) == ("b", 1) else Outcome("success"))
    for _ in range(40):  # restart after every step: each reconcile starts from the CR form
        sim.restart()
        if sim.step().status.run_state == "SUCCESS":
            break
        sim.advance(timedelta(seconds=5))
    assert sim.status.run_state == "SUCCESS"
    assert sim.created == [pn("a", 1), pn("b", 1), pn("b", 2), pn("c", 1)]  # Sim also asserts no twice


def test_restart_after_a_lost_status_write_adopts_instead_of_recreating() -> None:
    g = graph(task("a"), task("b", "a"))
    sim = Sim(g, script=lambda t, a, r: "hang" if t == "b" else Outcome("success"))
    for _ in range(4):
        sim.step()
        sim.advance(timedelta(seconds=5))
    assert pn("b", 1) in sim.pods
    before_b = sim.decisions[-2].status  # the status written before b's pod was created
    sim.status = before_b
    d = sim.step()
    assert d.status.tasks["b"].pod_name == pn("b", 1)
    assert sim.created.count(pn("b", 1)) == 1


def test_same_inputs_same_decision() -> None:
    sim = Sim(graph(task("a"), task("b", "a")))
    sim.step()
    sim.advance(timedelta(seconds=20))
    view = RunView("run-1", "wf", T0, sim.status)
    assert reconcile(view, sim.graph, list(sim.pods.values()), sim.now) == reconcile(
        view, sim.graph, list(sim.pods.values()), sim.now)


def test_finished_run_pods_are_cleaned_after_the_delay() -> None:
    sim = Sim(graph(task("a")), settings=EngineSettings(cleanup_delay=timedelta(minutes=1)))
    sim.run_until_done()
    assert sim.pods, "pods stay (with their logs) right after the run"
    d = sim.step()
    assert not any(type(a).__name__ == "DeletePod" for a in d.actions)
    assert d.requeue_at == sim.status.completed_on + timedelta(minutes=1)
    sim.now = d.requeue_at
    d = sim.step()
    assert [type(a).__name__ for a in d.actions] == ["DeleteToken", "DeletePod"]
    sim.advance(timedelta(seconds=1))
    assert sim.step().done
