"""Where a task attempt's log is read from (console/logsource.py), over the in-memory Kubernetes
stand-in with the pods' log bodies given: the attempt's newest pod (a rescheduled attempt has
several), a source named in every answer, and a reason when there is no log."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from fakekube import FakeKube  # noqa: E402

from updraft.console.logsource import read_attempt_log  # noqa: E402
from updraft.k8s.resources import KubeError  # noqa: E402
from updraft.model import names  # noqa: E402


class LogKube(FakeKube):
    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[str, str] = {}

    async def pod_log(self, name: str, namespace: str, *, tail_lines: int = 2000, limit_bytes: int = 1 << 20) -> str:
        if name not in self.logs:
            raise KubeError(404, "NotFound", "gone")
        return self.logs[name]


def _pod(kube: LogKube, run: str, task: str, attempt: int, reschedule: int, created: str) -> str:
    name = names.pod_name(run, task, attempt, reschedule)
    kube.put({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name, "creationTimestamp": created, "labels": {**names.run_selector(run), names.LABEL_ATTEMPT: str(attempt)},
        "annotations": {names.ANNOTATION_TASK_ID: task}}}, "ns")
    kube.logs[name] = f"log of {name}\n"
    return name


async def test_the_attempts_newest_pod_is_read_and_named() -> None:
    kube = LogKube()
    _pod(kube, "r", "sense", 1, 0, "2026-12-02T10:00:00Z")
    newest = _pod(kube, "r", "sense", 1, 1, "2026-12-02T10:05:00Z")
    _pod(kube, "r", "sense", 2, 0, "2026-12-02T10:10:00Z")
    _pod(kube, "r", "other", 1, 0, "2026-12-02T10:20:00Z")
    got = await read_attempt_log(kube, "ns", "r", "sense", 1)  # type: ignore[arg-type]
    assert got.source == f"pod {newest}" and got.text == f"log of {newest}\n"
    assert "latest of 2 pods" in got.note


async def test_no_pod_or_an_unreadable_log_says_why() -> None:
    kube = LogKube()
    gone = await read_attempt_log(kube, "ns", "r", "sense", 1)  # type: ignore[arg-type]
    assert gone.source == "none" and gone.text == "" and "deletes" in gone.note
    name = _pod(kube, "r", "sense", 1, 0, "2026-12-02T10:00:00Z")
    del kube.logs[name]
    failed = await read_attempt_log(kube, "ns", "r", "sense", 1)  # type: ignore[arg-type]
    assert failed.source == f"pod {name}" and "could not be read" in failed.note
