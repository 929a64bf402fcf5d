"""Following a run until it ends (pure): the poll loop takes its fetch, sleep and clock
functions as parameters, and reports state changes as they are seen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from updraft.model.states import RunState

NOT_STARTED_STATES = frozenset({"NONE", "SCHEDULED", "QUEUED", "UPSTREAM_FAILED", "REMOVED", "CANCELLED"})
ERROR_STATES = frozenset({"FAILED", "UP_FOR_RETRY", "TIMEOUT"})  # a task state that comes with an error


@dataclass(frozen=True)
class Snapshot:
    run_state: str
    tasks: Mapping[str, str] = field(default_factory=dict)  # task label -> task state

    @property
    def ended(self) -> bool:
        return self.run_state in RunState.FINAL


@dataclass(frozen=True)
class Change:
    task: str | None  # None: the run itself
    old: str | None  # None: first seen
    new: str


class WaitTimedOut(Exception):
    def __init__(self, last: Snapshot, waited_s: float) -> None:
        super().__init__(f"still {last.run_state} after {waited_s:.0f}s")
        self.last, self.waited_s = last, waited_s


def task_label(task_instance_id: str, run_id: str) -> str:
    """The task's id as the run shows it: Updraft's TaskInstanceId is `<run id>.<task id>`."""
    prefix = f"{run_id}."
    return task_instance_id[len(prefix):] if task_instance_id.startswith(prefix) else task_instance_id


def has_details(summary: Mapping[str, object]) -> bool:
    """Whether a ListTaskInstances summary is worth a GetTaskInstance (attempt, times, error): not
    for a task that never started (a 500-task run that failed early is a few calls, not 500)."""
    return summary.get("DurationInSeconds") is not None or summary.get("Status") not in NOT_STARTED_STATES


def changes(before: Snapshot | None, after: Snapshot) -> list[Change]:
    """What differs from `before` to `after`: tasks first (by id), then the run, so a run's end
    is reported after the task changes that caused it. Everything is new when before is None."""
    old_tasks = before.tasks if before else {}
    out = [Change(t, old_tasks.get(t), s) for t, s in sorted(after.tasks.items()) if old_tasks.get(t) != s]
    if before is None or before.run_state != after.run_state:
        out.append(Change(None, before.run_state if before else None, after.run_state))
    return out


def follow(fetch: Callable[[], Snapshot], *, sleep: Callable[[float], None], clock: Callable[[], float],
           interval: float, timeout: float | None = None,
           on_change: Callable[[list[Change], Snapshot], None] | None = None,
           transient: Callable[[Exception], bool] = lambda e: False, outage: float = 0.0,
           on_outage: Callable[[Exception], None] | None = None) -> Snapshot:
    """Poll `fetch` every `interval` seconds until the run ends; return the last snapshot.

    With `timeout` (seconds, measured with `clock`), WaitTimedOut carries the last snapshot. A
    failed fetch for which `transient(error)` holds (the API restarting, throttling) is retried at
    the same pace for up to `outage` seconds in a row (`on_outage` is told of the first failure of
    each outage); after that, or for any other error, the error is raised."""
    started = clock()
    previous: Snapshot | None = None
    current = fetch()
    failing_since: float | None = None
    while True:
        found = changes(previous, current)
        if found and on_change is not None:
            on_change(found, current)
        if current.ended:
            return current
        while True:
            waited = clock() - started
            if timeout is not None and waited >= timeout:
                raise WaitTimedOut(current, waited)
            sleep(interval if timeout is None else max(0.0, min(interval, timeout - waited)))
            try:
                fetched = fetch()
            except Exception as e:
                if not transient(e):
                    raise
                if failing_since is None:
                    failing_since = clock()
                    if on_outage is not None:
                        on_outage(e)
                if clock() - failing_since > outage:
                    raise
                continue
            failing_since = None
            break
        previous, current = current, fetched
