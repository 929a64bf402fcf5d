"""Deterministic, valid Kubernetes names and labels for task pods (pure).

A pod name is derived from the run, the task and the attempt (and the reschedule index for a
sensor re-launched later), so creating it twice is harmless and a restarted operator finds the
pods it made. Task ids may hold capitals, '_' and '.', which names and labels cannot: they are
folded to a DNS label, with a short hash when folding or truncating could make two ids collide.
"""

from __future__ import annotations

import hashlib
import re

MAX_LABEL = 63
_INVALID = re.compile(r"[^a-z0-9-]+")


def _digest(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def dns_label(text: str, max_len: int = MAX_LABEL) -> str:
    """`text` as a DNS-1123 label; a hash is appended whenever the text had to change."""
    folded = _INVALID.sub("-", text.lower()).strip("-") or "x"
    if folded == text and len(folded) <= max_len:
        return folded
    digest = _digest(text)
    return f"{folded[: max_len - len(digest) - 1].rstrip('-')}-{digest}"


def pod_name(run: str, task_id: str, attempt: int, reschedule: int = 0) -> str:
    """`<run>-<task>-<attempt>[-r<n>]`: a DNS-1123 label of at most 63 characters.

    The task part is folded to at most 40 characters (with a hash when it changed); the run part
    takes the room left, hash-shortened when it does not fit (or holds '.', which a run name
    may and a label may not). A run name that fits is kept as is, so names stay readable."""
    tail = f"-{attempt}" + (f"-r{reschedule}" if reschedule else "")
    task = dns_label(task_id, 40)
    head_room = MAX_LABEL - len(tail) - len(task) - 1
    if len(run) <= head_room and _INVALID.search(run) is None and run.strip("-") == run:
        head = run
    else:
        folded = _INVALID.sub("-", run.lower()).strip("-")
        head = f"{folded[: max(head_room - 9, 0)].rstrip('-')}-{_digest(run)}".lstrip("-")
    return f"{head}-{task}{tail}"


def definition_configmap_name(version_object: str) -> str:
    """The ConfigMap holding a version's definition: `<WorkflowVersion name>-definition`."""
    return f"{version_object}-definition"


def label_value(text: str) -> str:
    """A valid label value (<= 63, alphanumerics plus - _ .), hash-shortened when needed."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    if cleaned == text and len(text) <= MAX_LABEL:
        return text
    digest = _digest(text)
    return f"{cleaned[: MAX_LABEL - 9].rstrip('-._')}-{digest}".lstrip("-")


LABEL_WORKFLOW = "updraft.dev/workflow"
LABEL_RUN = "updraft.dev/run"
LABEL_TASK = "updraft.dev/task"
LABEL_ATTEMPT = "updraft.dev/attempt"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_BY = "updraft"
ANNOTATION_TASK_ID = "updraft.dev/task-id"
ANNOTATION_RESCHEDULE = "updraft.dev/reschedule"
