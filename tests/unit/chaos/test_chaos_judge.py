"""The judge: each count of the summary line catches what it names, from the audit log's pod
creations and the runs' final states, never from a final pod listing."""

from typing import Any

from judge import Injected, Observed, Verdict, judge, summary_line
from workflows import BY_NAME

from updraft.model import names


def final(run: str, shape: str, **override: tuple[str, int]) -> dict[str, Any]:
    s = BY_NAME[shape]
    tasks = {t: (e.state, e.attempt) for t, e in s.tasks.items()} | override
    return {"metadata": {"name": run}, "status": {"runState": s.run_state, "taskInstances": [
        {"taskId": t, "status": st, "attemptNumber": a} for t, (st, a) in tasks.items()]}}


def pods_of(run: str, shape: str) -> dict[str, list[str]]:
    return {names.pod_name(run, t, e.attempt): [f"uid-{run}-{t}"] for t, e in BY_NAME[shape].tasks.items() if e.attempt}


def observed(**kw: Any) -> Observed:
    created = kw.pop("created", {"c-1": "chain", "f-1": "flaky"})
    pods: dict[str, list[str]] = {}
    for run, shape in created.items():
        pods |= pods_of(run, shape)
    # the flaky task's first attempt had a pod too
    pods[names.pod_name("f-1", "chaos_flaky", 1)] = ["uid-f1-first"]
    base: dict[str, Any] = {"created": created, "final": {r: final(r, s) for r, s in created.items()},
                            "pod_creations": pods, "pod_faults": frozenset(), "stuck": frozenset()}
    return Observed(**(base | kw))


def test_runs_that_end_as_their_shape_says_are_clean() -> None:
    assert judge(observed()).clean


def test_a_pod_name_created_twice_is_a_duplicated_attempt() -> None:
    o = observed()
    pods = dict(o.pod_creations)
    pods[names.pod_name("c-1", "ok_a", 1)] = ["u-1", "u-2"]
    v = judge(observed(pod_creations=pods))
    assert len(v.duplicated) == 1 and "created 2 times" in v.duplicated[0]


def test_a_relaunch_is_a_duplicate_unless_a_pod_fault_lost_the_pod_before_it() -> None:
    o = observed()
    first, relaunch = names.pod_name("c-1", "ok_b", 1), names.pod_name("c-1", "ok_b", 1, 1)
    pods = dict(o.pod_creations) | {relaunch: ["u-r1"]}
    assert len(judge(observed(pod_creations=pods)).duplicated) == 1
    assert judge(observed(pod_creations=pods, pod_faults=frozenset({first}))).clean


def test_a_name_asked_for_but_never_created_makes_no_duplicate() -> None:
    o = observed()
    pods = dict(o.pod_creations)
    del pods[names.pod_name("c-1", "ok_c", 1)]  # answered 5xx without being applied
    pods[names.pod_name("c-1", "ok_c", 1, 1)] = ["u-r1"]
    assert judge(observed(pod_creations=pods)).clean


def test_a_run_not_ended_or_gone_is_lost() -> None:
    o = observed()
    running = dict(o.final) | {"c-1": {"metadata": {"name": "c-1"}, "status": {"runState": "RUNNING"}}}
    assert len(judge(observed(final=running)).lost) == 1
    gone = {k: v for k, v in o.final.items() if k != "f-1"}
    assert judge(observed(final=gone)).lost == ["run f-1 (flaky): gone"]


def test_an_attempt_beyond_the_shapes_is_a_retry_spent_on_infrastructure() -> None:
    o = observed()
    spent = dict(o.final) | {"f-1": final("f-1", "flaky", chaos_flaky=("SUCCESS", 3))}
    v = judge(observed(final=spent))
    assert len(v.infra_spent) == 1 and not v.wrong


def test_a_hanging_task_not_timed_out_and_a_wrong_end_are_both_caught() -> None:
    created = {"h-1": "hang"}
    o = observed(created=created, final={"h-1": final("h-1", "hang", chaos_hang=("FAILED", 1))})
    v = judge(o)
    assert len(v.timeouts_not_enforced) == 1 and len(v.wrong) == 1


def test_stuck_runs_leftovers_and_pods_no_run_explains_are_counted() -> None:
    pods = dict(observed().pod_creations) | {"stranger": ["u-x"]}
    v = judge(observed(stuck=frozenset({"c-1"}), left_secrets=("x-token",), left_pods=("p",), pod_creations=pods))
    assert (v.stuck, len(v.leaked), v.unknown_pods) == (["c-1"], 2, ["stranger"])


def test_the_summary_line_names_every_count_and_fails_on_any() -> None:
    i = Injected(runs=2, kills=3, targeted_kills=15, apiserver_restarts=2, leader_pauses=0, pod_faults=50,
                 node_losses=0, proxy_faults=4)
    line = summary_line("tier 2 (KWOK)", 5, "full", i, Verdict(), audit_complete=True)
    for part in ("runs 2", "operator kills 18 (random 3 / targeted 15)", "apiserver restarts 2", "pod faults 50",
                 "runs lost 0", "attempts duplicated 0", "retries spent on infrastructure 0",
                 "timeouts not enforced 0", "runs stuck 0", "objects leaked 0"):
        assert part in line
    assert line.endswith("PASS")
    assert summary_line("t", 5, "full", i, Verdict(lost=["x"]), True).endswith("FAIL")
    assert summary_line("t", 5, "full", i, Verdict(), False).endswith("FAIL")
