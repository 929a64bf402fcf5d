"""The admission book answers every waiting run's question exactly as a full computation would,
whatever runs, states and recorded limits the index holds, and whatever the asking run knows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from updraft.model.run import WorkflowRun
from updraft.plan.admission import AdmissionBook, is_admitted

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATES = ("STARTING", "QUEUED", "RUNNING", "STOPPING", "SUCCESS", "FAILED")


def _run(i: int, workflow: str, state: str, limit: int | None) -> WorkflowRun:
    status: dict[str, object] = {"runState": state}
    if limit is not None:
        status["maxActiveRuns"] = limit
    created = (T0 + timedelta(seconds=i // 2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # ties too
    return WorkflowRun.from_body({"metadata": {"name": f"r{i}", "namespace": "d", "uid": f"u{i}",
                                               "creationTimestamp": created},
                                  "spec": {"workflowName": workflow}, "status": status})


runs_strategy = st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(STATES),
                                   st.one_of(st.none(), st.integers(1, 4))), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(runs_strategy, st.data(), st.integers(1, 8))
def test_the_books_answers_are_the_full_computations(spec: list[tuple[str, str, int | None]], data: st.DataObject,
                                                      cluster_limit: int) -> None:
    runs = [_run(i, wf, state, limit) for i, (wf, state, limit) in enumerate(spec)]
    book = AdmissionBook()
    for _ in range(5):  # several runs asking at one version of the index
        i = data.draw(st.integers(0, len(runs) - 1))
        asking = runs[i]
        if data.draw(st.booleans()):  # the asking run is fresher than the index (its state moved on)
            asking = _run(i, asking.workflow, data.draw(st.sampled_from(STATES)), asking.status.get("maxActiveRuns"))
        limit = data.draw(st.integers(1, 4))  # its version's max_active_runs, recorded or not
        assert book.is_admitted(7, runs, asking, limit, cluster_limit) == is_admitted(runs, asking, limit, cluster_limit)


def test_a_new_version_of_the_index_is_read_afresh() -> None:
    runs = [_run(0, "a", "RUNNING", 1), _run(2, "a", "QUEUED", 1)]
    book = AdmissionBook()
    assert not book.is_admitted(1, runs, runs[1], 1, 10)  # a's one slot is taken
    freed = [_run(0, "a", "SUCCESS", 1), runs[1]]
    assert book.is_admitted(2, freed, runs[1], 1, 10)
