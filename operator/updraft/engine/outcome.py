"""What a task pod means (pure): the runner's report, and a pod's classification.

The runner's contract
---------------------
The runner (updraft.runner) writes ONE JSON object to its termination message,
/dev/termination-log (the pod builder sets terminationMessagePath and policy File; the kubelet
keeps at most 4 KB of it and copies it into the container status):

    {"state": "success" | "failed" | "up_for_retry" | "up_for_reschedule" | "skipped" | "timeout",
     "error": "<short message, optional>",
     "reschedule_at": "<ISO-8601 with offset; only with up_for_reschedule>",
     "retry": false  (optional: this failure is final whatever retries are left),
     "logs": {"status": "SHIPPED" | "PARTIAL" | "FAILED", "sent": n, "dropped": n, "reason": "..."}
             (optional: what became of the attempt's log, when it is shipped to CloudWatch Logs)}

and exits 0 for success / skipped / up_for_reschedule, non-zero otherwise. Unknown keys are
ignored (room to grow); an unknown state or broken JSON counts as "no report", and the pod's
phase and exit code decide. `failed`, `up_for_retry` and `timeout` all mean "this attempt did
not succeed": the engine, not the runner, decides between a retry and a final state from the
task's retries, since it alone knows the attempt count across pods, except that `"retry": false`
makes the failure final, as Airflow does for AirflowFailException and a sensor's timeout.

The early report
----------------
Right after writing its outcome to its termination message, and before it ships its log, the
runner sends the same object to the task API (POST .../report, authenticated by the attempt's
token), which writes it once on the pod as the annotation `updraft.dev/report`
(taskapi/reports.py). The pod's watch event wakes the run at once, so successors start without
waiting for the kubelet to notice the container's exit and write the pod's status (a second or
more). The report is the attempt's outcome as soon as it is on the pod, whatever follows: the
task's work is done (its `execute` returned, its XCom pushed), as an Airflow task instance is
final once its state is committed. So a reported pod is DONE with its report even if it is still
running (its runner exiting), or if it then ends in a way that would otherwise be an
infrastructure failure or a kill without a termination message (an eviction, an OOM kill, a
deletion in its last milliseconds): its attempt never runs twice. The report is only a shortcut:
when it is lost (the task API unreachable, the runner killed first), the termination message
says the same a moment later; when it is sent twice, the task API keeps the first and accepts an
identical second one. Only the pod's own attempt can report (the token is bound to the run
object, task, attempt and pod), only while it is its task's current pod and the run is not
finished. The report has no `logs`: the runner then ships its log (half a second and more: the
logs client is made then) and writes the termination message again with `logs`, which the engine
reads once the pod has ended (engine/logfate.py); successors do not wait for it.

Infrastructure failure
----------------------
A pod that ends for reasons that are not the task's doing is an infrastructure failure: it is
re-launched as a new pod of the same attempt and does not spend the user's retries (bounded by
EngineSettings.max_infra_retries). It is recognised by, in order:
- pod `status.reason` in INFRA_REASONS (kubelet eviction, node shutdown, admission rejections
  such as OutOfcpu/NodeAffinity/UnexpectedAdmissionError, the legacy NodeLost);
- a `DisruptionTarget` condition (Kubernetes >= 1.26) whose reason is in INFRA_DISRUPTIONS
  (preemption, taint-manager eviction, Eviction API, pod GC of a pod on a vanished node,
  kubelet termination);
- the container's terminated reason `ContainerStatusUnknown` (its node went away mid-run);
- a deletionTimestamp on a pod that has not finished (somebody deleted it under us), and on one
  the kubelet already moved to Failed without a report from the runner: a `kubectl delete pod`
  SIGTERMs the container (exit 143, phase Failed); the operator's own deletions (timeouts, stop,
  clean-up) are recorded in the run status before the pod is deleted, so they never land here;
- `DeadlineExceeded` before the container started: activeDeadlineSeconds counts from the pod's
  startTime, image pull included, and the task never ran (after it started, it is the task's
  timeout).
A pod that Succeeded is a success whatever its conditions say: its work is done. OOMKilled is
the task's own doing (it asked for too much memory) and counts against its retries, as in
Airflow. A pod in phase Unknown (node unreachable) is still alive as far as we know: the
taint manager evicts it after its toleration, which then shows as an infrastructure failure;
relaunching earlier could run the same attempt twice at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from updraft.engine.model import ObservedPod, Outcome
from updraft.model.states import LogStatus
from updraft.model.times import parse_ts

STATES = ("success", "failed", "up_for_retry", "up_for_reschedule", "skipped", "timeout")
INFRA_REASONS = frozenset({"Evicted", "NodeLost", "NodeShutdown", "Shutdown", "Terminated", "Preempting",
                           "UnexpectedAdmissionError", "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity",
                           "ContainerStatusUnknown"})
INFRA_DISRUPTIONS = frozenset({"PreemptionByScheduler", "PreemptionByKubeScheduler", "DeletionByTaintManager",
                               "EvictionByEvictionAPI", "DeletionByPodGC", "TerminationByKubelet"})
MAX_REPORT = 4096  # the kubelet's cap on a termination message
MAX_ERROR = 1024  # what reaches the run status of a task
MAX_LOG_REASON = 300

PENDING, RUNNING, DONE, INFRA = "pending", "running", "done", "infra"


def parse_outcome(text: str | None) -> Outcome | None:
    """The runner's report, or None when there is none or it breaks the contract."""
    if not text or len(text) > MAX_REPORT:
        return None
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("state") not in STATES:
        return None
    when = None
    if data.get("reschedule_at"):
        try:
            when = parse_ts(data["reschedule_at"])  # a naive time is UTC: the runner speaks UTC
        except ValueError:
            when = None
    error = data.get("error")
    logs: dict[str, Any] = data["logs"] if isinstance(data.get("logs"), dict) else {}
    log_status = str(logs["status"]) if logs.get("status") in LogStatus.REPORTED else None
    log_reason = str(logs["reason"])[:MAX_LOG_REASON] if log_status and logs.get("reason") else None
    return Outcome(state=data["state"], error=str(error)[:MAX_ERROR] if error else None, reschedule_at=when,
                   retry=data.get("retry") is not False, log_status=log_status, log_reason=log_reason)


@dataclass(frozen=True)
class PodOutcome:
    """One of: PENDING, RUNNING (alive), DONE (the task's outcome, counted against its retries),
    INFRA (lost to the infrastructure; `reason` says how)."""

    kind: str
    outcome: Outcome | None = None
    reason: str | None = None



def _failure(pod: ObservedPod) -> Outcome:
    if pod.reason == "DeadlineExceeded":
        return Outcome("timeout", "the task exceeded its execution_timeout (the pod's deadline)")
    if pod.outcome is not None and pod.outcome.state != "success":
        return pod.outcome
    if pod.reason == "OOMKilled":
        return Outcome("failed", "the task ran out of memory (OOMKilled)")
    if pod.exit_code is not None:
        return Outcome("failed", f"the task's container exited with code {pod.exit_code}")
    return Outcome("failed", "the task's pod failed" + (f" ({pod.reason})" if pod.reason else ""))


def classify_pod(pod: ObservedPod) -> PodOutcome:
    """What an observed pod means for its task attempt (see the module docstring)."""
    if pod.reported is not None:  # the runner's early report: final, whatever the pod does next
        return PodOutcome(DONE, pod.reported)
    if pod.phase == "Succeeded":
        return PodOutcome(DONE, pod.outcome or Outcome("success"))
    infra = pod.disruption if pod.disruption in INFRA_DISRUPTIONS else (
        pod.reason if pod.reason in INFRA_REASONS else None)
    if pod.phase == "Failed":
        if infra:
            return PodOutcome(INFRA, reason=infra)
        if pod.deleted and pod.outcome is None:
            return PodOutcome(INFRA, reason="pod deleted")
        if pod.reason == "DeadlineExceeded" and not pod.ran:
            return PodOutcome(INFRA, reason="the pod's deadline passed before its container started")
        return PodOutcome(DONE, _failure(pod))
    if pod.deleted:
        return PodOutcome(INFRA, reason=infra or "pod deleted")
    if pod.phase in ("Running", "Unknown"):
        return PodOutcome(RUNNING)
    return PodOutcome(PENDING)

