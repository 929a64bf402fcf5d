"""What became of an ended attempt's log (a task instance's `logStatus`), from its pod. Pure.

The runner says it in its termination message, as `logs` (engine/outcome.py), once the log is
shipped. Its early report through the task API comes before that (successors start while the
log ships) and leaves `logs` out. So:

- an outcome that says it (a termination message read after the pod ended) sets it at once;
- an attempt whose runner reported early and whose pod still runs is shipping its log: the
  fate stays open (None) until the pod's termination message says it;
- a pod that ran and ended without saying it was killed (OOM, a deadline, a node lost, a
  deletion while it shipped): INCOMPLETE, the stream holds what was sent until then;
- at the run's clean-up, a fate still open becomes INCOMPLETE: the pod is about to go.

Only when the cluster ships logs (EngineSettings.ship_logs); otherwise a task instance has none.
"""

from __future__ import annotations

from dataclasses import replace

from updraft.engine.model import ObservedPod, Outcome, TaskInstance
from updraft.model.states import LogStatus

KILLED = "the attempt ended without the runner's report (killed?): the stream holds what was sent until then"
CUT = "the pod ended while its log was being shipped: the stream holds what was sent until then"
UNSAID = "the run was cleaned up before the pod said what became of its log"
SHIPPING_PHASES = ("Pending", "Running", "Unknown")  # the runner may still be shipping


def fate(ti: TaskInstance, outcome: Outcome, pod: ObservedPod | None, *, shipping: bool, ran: bool,
         cleaning: bool = False) -> TaskInstance:
    """`ti` with its log's fate as far as `outcome` and `pod` tell; `ran`: the attempt's pod started."""
    said = outcome if outcome.log_status is not None else (pod.outcome if pod is not None else None)
    if said is not None and said.log_status is not None:
        return replace(ti, log_status=said.log_status, log_reason=said.log_reason)
    if not shipping or not ran:
        return ti
    if pod is not None and pod.reported is not None:
        if pod.phase in SHIPPING_PHASES and not cleaning:
            return ti  # reported, and shipping its log now: its termination message will say
        return replace(ti, log_status=LogStatus.INCOMPLETE,
                       log_reason=UNSAID if pod.phase in SHIPPING_PHASES else CUT)
    return replace(ti, log_status=LogStatus.INCOMPLETE, log_reason=KILLED)

