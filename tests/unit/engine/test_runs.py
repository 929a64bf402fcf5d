"""Whole runs through the engine with a fake clock and a simulated pod set."""

from __future__ import annotations

from datetime import timedelta

import pytest

from updraft.engine import EngineSettings, Outcome, RunStatus, TaskState

from sim import T0, Sim, graph, task


def test_fan_out_fan_in_succeeds_in_order() -> None:
    g = graph(task("start"), task("a", "start"), task("b", "start"), task("c", "start"), task("join", "a", "b", "c"))
    sim = Sim(g)
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS"
    assert {t: ti.status for t, ti in status.tasks.items()} == dict.fromkeys(g.tasks, "SUCCESS")
    assert sim.created[0].startswith("run-1-start-1")
    assert sim.created[-1].startswith("run-1-join-1")
    assert len(sim.created) == 5  # one pod per attempt, never twice
    assert status.started_on == T0 and status.completed_on is not None and status.duration > 0


def test_failing_task_with_retries_fails_the_run_with_upstream_failed_downstream() -> None:
    g = graph(task("load", retries=2, retry_delay=timedelta(seconds=30)), task("report", "load"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "boom") if t == "load" else Outcome("success"))
    status = sim.run_until_done()
    assert status.run_state == "FAILED"
    assert status.error_message == "Workflow execution failed"
    load = status.tasks["load"]
    assert (load.status, load.attempt, load.error) == ("FAILED", 3, "boom")
    assert status.tasks["report"].status == "UPSTREAM_FAILED"
    assert [n.rsplit("-", 1)[1] for n in sim.created] == ["1", "2", "3"]


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
    assert sim.run_until_done().run_state == "SUCCESS"


def test_all_done_join_runs_after_a_failure_and_decides_the_run() -> None:
    g = graph(task("a"), task("b"), task("cleanup", "a", "b", trigger_rule="all_done"))
    sim = Sim(g, script=lambda t, a, r: Outcome("failed", "no") if t == "a" else Outcome("success"))
    status = sim.run_until_done()
    assert status.tasks["cleanup"].status == "SUCCESS"
    assert status.run_state == "SUCCESS"  # Airflow: the leaf (cleanup) succeeded


def test_one_failed_branch_and_skips() -> None:
    g = graph(task("work"), task("alert", "work", trigger_rule="one_failed"), task("ok", "work"))
    status = Sim(g).run_until_done()
    assert status.tasks["alert"].status == "SKIPPED"
    assert status.run_state == "SUCCESS"


def test_timeout_is_enforced_by_the_engine_clock_and_retried() -> None:
    g = graph(task("slow", retries=1, retry_delay=timedelta(0), execution_timeout=timedelta(seconds=60)))
    sim = Sim(g, script=lambda t, a, r: "hang" if a == 1 else Outcome("success"),
              settings=EngineSettings(timeout_grace=timedelta(seconds=5)))
    status = sim.run_until_done(dt=timedelta(seconds=10))
    assert status.run_state == "SUCCESS"
    assert status.tasks["slow"].attempt == 2


def test_timeout_without_retries_is_timeout() -> None:
    g = graph(task("slow", execution_timeout=timedelta(seconds=30)))
    sim = Sim(g, script=lambda t, a, r: "hang")
    status = sim.run_until_done(dt=timedelta(seconds=20))
    assert status.tasks["slow"].status == "TIMEOUT"
    assert status.run_state == "FAILED"


def test_stop_cancels_and_deletes_pods() -> None:
    g = graph(task("a"), task("b", "a"))
    sim = Sim(g, script=lambda t, a, r: "hang")
    sim.step()
    sim.advance(timedelta(seconds=5))
    sim.step()
    sim.stop = True
    d = sim.step()
    assert d.status.run_state == "STOPPING"
    assert any(getattr(a, "pod_name", "").startswith("run-1-a-1") and type(a).__name__ == "DeletePod" for a in d.actions)
    sim.advance(timedelta(seconds=1))
    d = sim.step()
    assert d.status.run_state == "STOPPED"
    assert {t: ti.status for t, ti in d.status.tasks.items()} == {"a": "CANCELLED", "b": "CANCELLED"}


def test_sensor_reschedule_relaunches_at_the_reschedule_time() -> None:
    g = graph(task("wait", mode="reschedule", poke_interval=timedelta(seconds=60)), task("after", "wait"))

    def script(t: str, a: int, r: int) -> object:
        if t == "wait" and r < 2:
            return Outcome("up_for_reschedule", reschedule_at=T0 + timedelta(minutes=2 * (r + 1)))
        return Outcome("success")

    sim = Sim(g, script=script)
    status = sim.run_until_done(dt=timedelta(seconds=15))
    assert status.run_state == "SUCCESS"
    wait_pods = [n for n in sim.created if "-wait-" in n]
    assert wait_pods == ["run-1-wait-1", "run-1-wait-1-r1", "run-1-wait-1-r2"]
    assert status.tasks["wait"].attempt == 1


def test_eviction_is_retried_without_spending_user_retries() -> None:
    g = graph(task("t", retries=0))
    sim = Sim(g, script=lambda t, a, r: "evict" if r == 0 else Outcome("success"))
    status = sim.run_until_done()
    assert status.run_state == "SUCCESS"
    assert (status.tasks["t"].attempt, status.tasks["t"].infra_retries) == (1, 1)


def test_infrastructure_failures_are_bounded() -> None:
    g = graph(task("t"))
    sim = Sim(g, script=lambda t, a, r: "evict", settings=EngineSettings(max_infra_retries=2))
    status = sim.run_until_done()
    assert status.tasks["t"].status == "FAILED" and "infrastructure" in (status.tasks["t"].error or "")


def test_queued_until_admitted() -> None:
    sim = Sim(graph(task("t")), admitted=False)
    d = sim.step()
    assert d.status.run_state == "QUEUED" and not d.actions[1:]
    sim.admitted = True
    d = sim.step()
    assert d.status.run_state == "RUNNING"


def test_restart_mid_run_adopts_pods_and_never_duplicates() -> None:
    g = graph(task("a"), task("b", "a"), task("c", "b"))
    sim = Sim(g)
    for _ in range(4):
        sim.step()
        sim.advance(timedelta(seconds=5))
    # a new operator process: status from its CR form, same pods
    sim.status = RunStatus.from_dict(sim.status.to_dict("wf", "run-1"))
    status = sim.run_until_done()  # Sim asserts no pod name is created twice
    assert status.run_state == "SUCCESS"
    assert sorted(sim.created) == sorted(set(sim.created))


def test_same_inputs_same_decision() -> None:
    sim = Sim(graph(task("a"), task("b", "a")))
    sim.step()
    sim.advance(timedelta(seconds=20))
    from updraft.engine import RunView, reconcile

    view = RunView("run-1", "wf", T0, sim.status)
    assert reconcile(view, sim.graph, list(sim.pods.values()), sim.now) == reconcile(
        view, sim.graph, list(sim.pods.values()), sim.now)


def test_broken_definition_fails_the_run_with_its_error() -> None:
    from updraft.engine import RunView, reconcile

    d = reconcile(RunView("r", "wf", T0, RunStatus(), definition_error="tasks.x.retries: too many"), None, [], T0)
    assert (d.status.run_state, d.status.error_message) == ("FAILED", "tasks.x.retries: too many")


def test_finished_run_pods_are_cleaned_after_the_delay() -> None:
    sim = Sim(graph(task("a")), settings=EngineSettings(cleanup_delay=timedelta(minutes=1)))
    sim.run_until_done()
    assert sim.pods, "pods stay (with their logs) right after the run"
    d = sim.step()
    assert not any(type(a).__name__ == "DeletePod" for a in d.actions)
    assert d.requeue_at is not None
    sim.now = d.requeue_at
    d = sim.step()
    assert [type(a).__name__ for a in d.actions] == ["DeletePod"]
    sim.advance(timedelta(seconds=1))
    assert sim.step().done
