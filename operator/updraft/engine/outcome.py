"""What a finished task pod means (pure).

The runner writes one JSON object to its termination message (/dev/termination-log, at most
4 KB, which the kubelet copies into the container status):

    {"state": "success" | "failed" | "up_for_retry" | "up_for_reschedule" | "skipped" | "timeout",
     "error": "<short message>", "reschedule_at": "<ISO-8601>"}

`classify` turns an observed pod into one of: still pending/running, a task outcome the user's
code produced (counted against retries), or an infrastructure failure (eviction, a lost node,
preemption, a pod deleted under us), which is retried without spending the user's retries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from updraft.engine.model import ObservedPod, Outcome

STATES = ("success", "failed", "up_for_retry", "up_for_reschedule", "skipped", "timeout")
INFRA_REASONS = {"Evicted", "NodeLost", "NodeShutdown", "Shutdown", "Terminated", "Preempting",
                 "UnexpectedAdmissionError", "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity"}
INFRA_DISRUPTIONS = {"PreemptionByScheduler", "DeletionByTaintManager", "EvictionByEvictionAPI",
                     "DeletionByPodGC", "TerminationByKubelet"}
MAX_ERROR = 1024


def parse_outcome(text: str | None) -> Outcome | None:
    """The runner's report, or None when there is none or it is not in the contract."""
    if not text:
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
            when = datetime.fromisoformat(str(data["reschedule_at"]).replace("Z", "+00:00"))
        except ValueError:
            when = None
    error = data.get("error")
    return Outcome(state=data["state"], error=str(error)[:MAX_ERROR] if error else None, reschedule_at=when)


@dataclass(frozen=True)
class PodResult:
    kind: str  # pending | running | done | infra
    outcome: Outcome | None = None
    reason: str | None = None


def classify(pod: ObservedPod) -> PodResult:
    if pod.reason in INFRA_REASONS or pod.disruption in INFRA_DISRUPTIONS:
        return PodResult("infra", reason=pod.disruption or pod.reason)
    if pod.phase == "Succeeded":
        return PodResult("done", pod.outcome or Outcome("success"))
    if pod.phase == "Failed":
        if pod.reason == "DeadlineExceeded":
            return PodResult("done", Outcome("timeout", "the task exceeded its execution_timeout"))
        if pod.outcome is not None and pod.outcome.state != "success":
            return PodResult("done", pod.outcome)
        if pod.reason == "OOMKilled":
            return PodResult("done", Outcome("failed", "the task ran out of memory (OOMKilled)"))
        code = pod.exit_code
        return PodResult("done", Outcome("failed", f"the task's container exited with code {code}"
                                         if code is not None else "the task's pod failed"))
    if pod.deleted:
        return PodResult("infra", reason="pod deleted")
    if pod.phase == "Running":
        return PodResult("running")
    if pod.phase == "Unknown":
        return PodResult("infra", reason="node unreachable")
    return PodResult("pending")
