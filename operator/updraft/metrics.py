"""Every Prometheus metric the operator exports, declared in one place.

Labels are bounded: workflow names (at most the workflow quota), run types, states. Never run ids,
task ids or pod names. The gauge of runs by state is read from the run loops' current view when
scraped: after a restart it fills as the loops resume, and a run that ends or is deleted leaves it.
A deleted workflow's series go with it (`forget_workflow`): workflows created and deleted over
months leave no series behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from updraft import __version__
from updraft.model.states import RunState, TaskState
from updraft.model.times import parse_ts

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)

RUNS_STARTED = Counter("updraft_runs_started_total", "Runs that started (left STARTING/QUEUED).",
                       ["workflow", "run_type"])
RUNS_FINISHED = Counter("updraft_runs_finished_total", "Runs that reached a final state.",
                        ["workflow", "run_type", "state"])
RUN_DURATION = Histogram("updraft_run_duration_seconds", "Duration of finished runs.", ["workflow"],
                         buckets=_DURATION_BUCKETS)
TASK_ATTEMPTS = Counter("updraft_task_attempts_total", "Task attempts by the state they ended in.",
                        ["workflow", "state"])
TASK_DURATION = Histogram("updraft_task_duration_seconds", "Duration of finished task attempts.", ["workflow"],
                          buckets=_DURATION_BUCKETS)
TASK_LOGS = Counter("updraft_task_logs_total", "Finished task attempts by what became of their log in CloudWatch "
                    "Logs (SHIPPED, PARTIAL, FAILED, INCOMPLETE).", ["workflow", "status"])
TASK_RETRIES = Counter("updraft_task_retries_total", "Task attempts that failed and will be retried.", ["workflow"])
SCHEDULE_DELAY = Histogram("updraft_schedule_delay_seconds", "From a scheduled fire time to its run's creation.",
                           ["workflow"], buckets=_LATENCY_BUCKETS)
POD_START_LATENCY = Histogram("updraft_pod_start_latency_seconds", "From a task pod's creation to its start.",
                              buckets=_LATENCY_BUCKETS)
RECONCILE_ERRORS = Counter("updraft_reconcile_errors_total", "Reconciles that raised.", ["kind"])
BUILD_INFO = Gauge("updraft_build_info", "The running Updraft version.", ["version"])
# the operator's own gauges: registered by register_operator_series(), so that the API process
# (which shares this module for its request series) does not export them as zeros
CONCURRENT_RUNS_LIMIT = Gauge("updraft_concurrent_runs_limit", "The cluster-wide quota of RUNNING runs; beyond it runs "
                              "wait QUEUED (with updraft_runs, the queue's saturation).", registry=None)
IS_LEADER = Gauge("updraft_operator_leader", "1 on the operator replica that holds the leader Lease (or runs "
                  "without leader election), 0 on standbys.", registry=None)
QUEUE_DEPTH = Gauge("updraft_work_queue_depth", "Keys waiting for one of the operator's workers, by loop (runs: "
                    "run passes due; schedules: workflows whose timer fired): high for long means the workers "
                    "cannot keep up.", ["loop"], registry=None)
PASSES = Counter("updraft_passes_total", "Passes of the operator's worker pools, by loop (runs, schedules).",
                 ["loop"], registry=None)
API_REQUESTS = Counter("updraft_api_requests_total", "MWAA Serverless API requests by operation and result code "
                       "(OK, or the error code).", ["operation", "code"])
API_REQUEST_DURATION = Histogram("updraft_api_request_duration_seconds", "Time to answer an API request.",
                                 ["operation"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))



# the series labelled by workflow (its name is the first label)
BY_WORKFLOW = (RUNS_STARTED, RUNS_FINISHED, RUN_DURATION, TASK_ATTEMPTS, TASK_DURATION, TASK_LOGS, TASK_RETRIES,
               SCHEDULE_DELAY)


def forget_workflow(workflow: str) -> None:
    """Drop every series of a deleted workflow (each histogram's buckets too: 16 values a series).
    The series share the name of workflows in other namespaces: the caller forgets a name only
    when no workflow of that name is left."""
    for metric in BY_WORKFLOW:
        for labels in list(metric._metrics):  # noqa: SLF001 - prometheus_client lists children nowhere else
            if labels[0] == workflow:
                metric.remove(*labels)


class RunStates(Collector):
    """updraft_runs{state} from the run loops' latest view of each run."""

    def __init__(self) -> None:
        self.current: dict[tuple[str, str], str] = {}

    def set(self, namespace: str, name: str, state: str | None) -> None:
        if state is None or state in RunState.FINAL:
            self.current.pop((namespace, name), None)
        else:
            self.current[(namespace, name)] = state

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("updraft_runs", "Runs not yet finished, by state (QUEUED, RUNNING ...).",
                                   labels=["state"])
        counts: dict[str, int] = {}
        for state in list(self.current.values()):  # a snapshot: scrapes run on another thread
            counts[state] = counts.get(state, 0) + 1
        for state in ("STARTING", "QUEUED", "RUNNING", "STOPPING"):
            family.add_metric([state], counts.get(state, 0))
        yield family


RUN_STATES = RunStates()
BUILD_INFO.labels(__version__).set(1)
_OPERATOR_SERIES = (RUN_STATES, CONCURRENT_RUNS_LIMIT, IS_LEADER, QUEUE_DEPTH, PASSES)


def register_operator_series() -> None:
    """Export the operator-only gauges (runs by state, the concurrency quota, leadership); once."""
    for collector in _OPERATOR_SERIES:
        try:
            REGISTRY.register(collector)
        except ValueError:  # already registered (an operator started twice in one process)
            pass


def _seconds(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    start, end = parse_ts(a), parse_ts(b)
    return max(0.0, (end - start).total_seconds()) if start and end else None


def record_run_change(workflow: str, run_type: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Count what changed between two status dicts of one run (the CR form)."""
    before, after = old.get("runState"), new.get("runState")
    if before in (None, "STARTING", "QUEUED") and after not in (None, "STARTING", "QUEUED"):
        RUNS_STARTED.labels(workflow, run_type).inc()
    if after in RunState.FINAL and before not in RunState.FINAL:
        RUNS_FINISHED.labels(workflow, run_type, str(after)).inc()
        duration = _seconds(new.get("startedOn"), new.get("completedOn"))
        if duration is not None:
            RUN_DURATION.labels(workflow).observe(duration)
    old_tasks = {t["taskId"]: t for t in old.get("taskInstances") or []}
    for t in new.get("taskInstances") or []:
        prev = old_tasks.get(t["taskId"], {})
        if t.get("logStatus") and (t.get("logStatus"), t.get("attemptNumber"), t.get("rescheduleCount")) != (
                prev.get("logStatus"), prev.get("attemptNumber"), prev.get("rescheduleCount")):
            TASK_LOGS.labels(workflow, t["logStatus"]).inc()
        if t.get("status") == prev.get("status") and t.get("attemptNumber") == prev.get("attemptNumber"):
            continue
        if t.get("status") in TaskState.FINAL | {TaskState.UP_FOR_RETRY}:
            TASK_ATTEMPTS.labels(workflow, t["status"]).inc()
            duration = _seconds(t.get("startedAt"), t.get("endedAt"))
            if duration is not None and t.get("status") not in ("UPSTREAM_FAILED", "SKIPPED"):
                TASK_DURATION.labels(workflow).observe(duration)
        if t.get("status") == "UP_FOR_RETRY":
            TASK_RETRIES.labels(workflow).inc()


def serve(port: int) -> None:
    """Expose /metrics on `port` (a background thread)."""
    start_http_server(port)
