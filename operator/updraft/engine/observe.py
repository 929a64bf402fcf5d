"""A pod object as the engine sees it (pure): the attempt it runs, its phase and times, and the
outcome its runner reported: through the task API before it exited (an annotation the task API
writes on the pod), and in its termination message."""

from __future__ import annotations

from typing import Any, Mapping

from updraft.engine.model import ObservedPod
from updraft.engine.outcome import parse_outcome
from updraft.model import names
from updraft.model.times import parse_ts


def observe(pod: Mapping[str, Any]) -> ObservedPod:
    meta, status = pod["metadata"], pod.get("status") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    container: Mapping[str, Any] = next(iter(status.get("containerStatuses") or []), {})
    state = container.get("state") or {}
    terminated = state.get("terminated") or {}
    running = state.get("running") or {}
    disruption = next((c.get("reason") for c in status.get("conditions") or []
                       if c.get("type") == "DisruptionTarget" and c.get("status") == "True"), None)
    return ObservedPod(
        name=meta["name"],
        task_id=annotations.get(names.ANNOTATION_TASK_ID, labels.get(names.LABEL_TASK, "")),
        attempt=int(labels.get(names.LABEL_ATTEMPT, "0")),
        reschedule=int(annotations.get(names.ANNOTATION_RESCHEDULE, "0")),
        phase=status.get("phase", "Pending"),
        created_at=parse_ts(meta.get("creationTimestamp")),
        started_at=parse_ts(terminated.get("startedAt") or running.get("startedAt") or status.get("startTime")),
        finished_at=parse_ts(terminated.get("finishedAt")),
        deleted=bool(meta.get("deletionTimestamp")),
        deleted_at=parse_ts(meta.get("deletionTimestamp")),
        ran=bool(terminated.get("startedAt") or running.get("startedAt")),
        infra_retries=int(annotations.get(names.ANNOTATION_INFRA_RETRIES, "0") or 0),
        exit_code=terminated.get("exitCode"),
        reason=status.get("reason") or terminated.get("reason"),
        disruption=disruption,
        outcome=parse_outcome(terminated.get("message")),
        reported=parse_outcome(annotations.get(names.ANNOTATION_REPORT)),
    )
