"""Where the console reads a task attempt's log from: **the one function to swap** when logs are
kept elsewhere (the CloudWatch reader of the log issue).

Today the only source is the attempt's pod: its log while the pod exists (the operator deletes a
finished run's pods after UPDRAFT_POD_CLEANUP_DELAY_SECONDS). The answer always names its source,
so the page can say where the lines came from and why there are none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from updraft.k8s.resources import Kube, KubeError
from updraft.model import names

TAIL_LINES = 2000
LIMIT_BYTES = 1 << 20


@dataclass(frozen=True)
class AttemptLog:
    source: str  # "pod <name>" | "none"
    text: str
    note: str  # what the reader should know (where the lines came from, or why there are none)


def _attempt_pods(pods: list[dict[str, Any]], task_id: str, attempt: int) -> list[dict[str, Any]]:
    """The pods of one attempt (reschedules make several), newest first."""
    mine = [p for p in pods
            if (p["metadata"].get("annotations") or {}).get(names.ANNOTATION_TASK_ID) == task_id
            and (p["metadata"].get("labels") or {}).get(names.LABEL_ATTEMPT) == str(attempt)]
    return sorted(mine, key=lambda p: str(p["metadata"].get("creationTimestamp", "")), reverse=True)


async def read_attempt_log(kube: Kube, namespace: str, run_id: str, task_id: str, attempt: int) -> AttemptLog:
    """The log of attempt `attempt` of task `task_id` in run `run_id`, and where it came from."""
    try:
        pods = await kube.list("Pod", namespace, labels=names.run_selector(run_id))
    except KubeError as e:
        return AttemptLog("none", "", f"the task pods could not be listed: {e.reason}")
    found = _attempt_pods(pods, task_id, attempt)
    if not found:
        return AttemptLog("none", "", "no pod of this attempt exists any more (or yet): logs are kept on the task's "
                                      "pod only, which the operator deletes a few minutes after the run ends")
    name = str(found[0]["metadata"]["name"])
    try:
        text = await kube.pod_log(name, namespace, tail_lines=TAIL_LINES, limit_bytes=LIMIT_BYTES)
    except KubeError as e:
        return AttemptLog(f"pod {name}", "", f"the pod's log could not be read: {e.reason}")
    note = f"the live log of pod {name} (its last {TAIL_LINES} lines); it goes when the pod is deleted"
    if len(found) > 1:
        note += f"; the attempt was rescheduled, this is its latest of {len(found)} pods"
    return AttemptLog(f"pod {name}", text, note)
