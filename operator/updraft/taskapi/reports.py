"""A runner's early report of its attempt's outcome, recorded on its pod (engine/outcome.py, "The
early report", says what it means to the engine).

The task API has authenticated the caller as one pod of one attempt (tokens.py); `record` writes
the report once as the pod's annotation `updraft.dev/report`, which the operator's pod watch
delivers to the run at once. Exactly once:

- bound to the attempt: the pod written is the token's own pod, and it must carry the run, task
  and attempt the token names (a pod of that name made for another attempt is refused);
- idempotent: a report equal to the one recorded is accepted again (a retry whose answer was
  lost), a different one is refused (409): the first report stands;
- a conditional write: the merge patch carries the resourceVersion that was read, so two reports
  racing cannot both land (the loser reads again and finds the first).

The report's text is the termination message's contract; it must parse as an outcome (400
otherwise) and is stored in one canonical JSON form (sorted keys), so that equal reports compare
equal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from updraft.engine.outcome import MAX_REPORT, parse_outcome
from updraft.k8s.resources import Conflict, Kube, NotFound
from updraft.model import names
from updraft.taskapi.tokens import Attempt

WRITE_ATTEMPTS = 10


class ReportRefused(Exception):
    """The report cannot be recorded; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def canonical(body: Any) -> str:
    """The report as it is stored, or ReportRefused(400/413) when it breaks the contract."""
    if not isinstance(body, dict):
        raise ReportRefused(400, "the report must be a JSON object (the termination message's contract)")
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    if len(text) > MAX_REPORT:
        raise ReportRefused(413, f"the report is larger than {MAX_REPORT} bytes")
    if parse_outcome(text) is None:
        raise ReportRefused(400, 'the report must have "state": one of success, failed, up_for_retry, '
                                 "up_for_reschedule, skipped, timeout")
    return text


def _bound(pod: Mapping[str, Any], who: Attempt) -> bool:
    """Whether `pod` is the pod the token was minted for: same run, task and attempt."""
    meta = pod.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    return (labels.get(names.LABEL_RUN) == names.label_value(who.run)
            and annotations.get(names.ANNOTATION_TASK_ID) == who.task_id
            and labels.get(names.LABEL_ATTEMPT) == str(who.attempt))


async def _pod(kube: Kube, who: Attempt) -> dict[str, Any]:
    try:
        pod = await kube.get("Pod", who.pod, who.namespace)
    except NotFound:
        raise ReportRefused(404, f"pod {who.pod!r} does not exist") from None
    if not _bound(pod, who):
        raise ReportRefused(403, f"pod {who.pod!r} does not run attempt {who.attempt} of task {who.task_id!r}")
    return pod


def _recorded(pod: Mapping[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("annotations") or {}).get(names.ANNOTATION_REPORT)


async def record(kube: Kube, who: Attempt, text: str, refusal: str | None = None) -> bool:
    """Write `text` (from `canonical`) on the attempt's pod once. True when this call wrote it,
    False when the same report was there already; ReportRefused(409) when another one is, or when
    there is none and `refusal` says why this attempt may not report now (its run finished, its
    pod superseded): a retry of a report that landed is still answered as a success."""
    for _ in range(WRITE_ATTEMPTS):
        pod = await _pod(kube, who)
        current = _recorded(pod)
        if current is not None:
            if current == text:
                return False
            raise ReportRefused(409, f"pod {who.pod!r} has already reported a different outcome")
        if refusal is not None:
            raise ReportRefused(409, refusal)
        try:
            await kube.patch("Pod", who.pod, who.namespace, {"metadata": {
                "resourceVersion": pod["metadata"]["resourceVersion"],
                "annotations": {names.ANNOTATION_REPORT: text}}})
            return True
        except Conflict:
            continue  # the pod changed since it was read (its status, another report): read it again
    raise ReportRefused(503, f"pod {who.pod!r} kept changing under {WRITE_ATTEMPTS} tries of this write; try again")
