"""Following a run: changes between snapshots, and the poll loop with a fake clock (no sleeping)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from updraft.remote.follow import Change, Snapshot, WaitTimedOut, changes, follow, has_details, task_label


def test_task_label_strips_the_run_prefix_only() -> None:
    assert task_label("run-1.extract", "run-1") == "extract"
    assert task_label("group.task", "run-1") == "group.task"


def test_changes_list_tasks_by_id_then_the_run() -> None:
    first = Snapshot("RUNNING", {"b": "QUEUED", "a": "RUNNING"})
    assert changes(None, first) == [Change("a", None, "RUNNING"), Change("b", None, "QUEUED"),
                                    Change(None, None, "RUNNING")]
    later = Snapshot("FAILED", {"a": "SUCCESS", "b": "FAILED", "c": "UPSTREAM_FAILED"})
    assert changes(first, later) == [Change("a", "RUNNING", "SUCCESS"), Change("b", "QUEUED", "FAILED"),
                                     Change("c", None, "UPSTREAM_FAILED"), Change(None, "RUNNING", "FAILED")]
    assert changes(later, later) == []


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def _fetcher(snaps: list[Snapshot]) -> Iterator[Snapshot]:
    yield from snaps
    while True:
        yield snaps[-1]


def test_follow_reports_each_change_once_and_returns_the_end() -> None:
    snaps = [Snapshot("STARTING"), Snapshot("RUNNING", {"a": "RUNNING"}), Snapshot("RUNNING", {"a": "RUNNING"}),
             Snapshot("SUCCESS", {"a": "SUCCESS"})]
    it, ft, seen = _fetcher(snaps), FakeTime(), []
    final = follow(lambda: next(it), sleep=ft.sleep, clock=ft.clock, interval=2,
                   on_change=lambda found, snap: seen.extend(found))
    assert final.run_state == "SUCCESS" and ft.sleeps == [2, 2, 2]
    assert seen == [Change(None, None, "STARTING"), Change("a", None, "RUNNING"), Change(None, "STARTING", "RUNNING"),
                    Change("a", "RUNNING", "SUCCESS"), Change(None, "RUNNING", "SUCCESS")]


def test_an_ended_run_returns_without_sleeping() -> None:
    ft = FakeTime()
    assert follow(lambda: Snapshot("STOPPED"), sleep=ft.sleep, clock=ft.clock, interval=5).run_state == "STOPPED"
    assert ft.sleeps == []


def test_timeout_carries_the_last_state_and_never_oversleeps() -> None:
    ft = FakeTime()
    with pytest.raises(WaitTimedOut) as e:
        follow(lambda: Snapshot("RUNNING"), sleep=ft.sleep, clock=ft.clock, interval=4, timeout=10)
    assert e.value.last.run_state == "RUNNING" and e.value.waited_s == 10
    assert ft.sleeps == [4, 4, 2]


def test_the_end_seen_at_the_deadline_wins_over_the_timeout() -> None:
    it, ft = _fetcher([Snapshot("RUNNING"), Snapshot("SUCCESS")]), FakeTime()
    assert follow(lambda: next(it), sleep=ft.sleep, clock=ft.clock, interval=5, timeout=5).run_state == "SUCCESS"


class Flaky:
    """fetch() that fails with `errors` (in order) before answering `snaps`."""

    def __init__(self, script: list[object]) -> None:
        self.script = script

    def __call__(self) -> Snapshot:
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, Snapshot)
        return item


def test_a_transient_outage_is_ridden_out_and_reported_once() -> None:
    ft, told = FakeTime(), []
    fetch = Flaky([Snapshot("RUNNING"), ConnectionError("down"), ConnectionError("down"), Snapshot("SUCCESS")])
    final = follow(fetch, sleep=ft.sleep, clock=ft.clock, interval=1, transient=lambda e: isinstance(e, ConnectionError),
                   outage=30, on_outage=told.append)
    assert final.run_state == "SUCCESS" and len(told) == 1 and ft.sleeps == [1, 1, 1]


def test_an_outage_longer_than_allowed_or_a_lasting_error_is_raised() -> None:
    ft = FakeTime()
    with pytest.raises(ConnectionError):
        follow(Flaky([Snapshot("RUNNING"), ConnectionError("down")]), sleep=ft.sleep, clock=ft.clock, interval=2,
               transient=lambda e: True, outage=5)
    assert ft.t == 8  # failures seen at 2 (outage starts), 4, 6, then 8 > 2 + 5
    with pytest.raises(KeyError):
        follow(Flaky([Snapshot("RUNNING"), KeyError("bug")]), sleep=ft.sleep, clock=ft.clock, interval=1,
               transient=lambda e: isinstance(e, ConnectionError), outage=60)


def test_the_timeout_still_applies_during_an_outage() -> None:
    ft = FakeTime()
    with pytest.raises(WaitTimedOut) as e:
        follow(Flaky([Snapshot("RUNNING"), ConnectionError("down")]), sleep=ft.sleep, clock=ft.clock, interval=1,
               timeout=3, transient=lambda e: True, outage=60)
    assert e.value.last.run_state == "RUNNING" and ft.t == 3


def test_only_tasks_that_started_are_worth_a_detail_call() -> None:
    assert has_details({"Status": "SUCCESS"}) and has_details({"Status": "RUNNING"}) and has_details({"Status": "FAILED"})
    assert has_details({"Status": "CANCELLED", "DurationInSeconds": 3})  # stopped while running
    assert not any(has_details({"Status": s}) for s in ("NONE", "QUEUED", "SCHEDULED", "UPSTREAM_FAILED", "CANCELLED"))
