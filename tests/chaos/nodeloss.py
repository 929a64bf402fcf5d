"""A lost node (issue 15): the Node object under running task pods is deleted, as a cloud
autoscaler or the end of a dead VM removes it, and registered again later.

Nothing else is done to the pods: the controller-manager's pod GC finds pods bound to a node that
no longer exists (it waits 40 s for the node to come back, and runs every 20 s), marks each
unfinished one Failed with the condition DisruptionTarget (reason DeletionByPodGC) and deletes it
at once (grace period 0). The operator must take each for an infrastructure failure and relaunch
its attempt once under a new name, without spending the task's retries. The node stays away until
its pods are gone (re-registered sooner, it would take them back: the pod GC checks the node
again before it deletes), then `hack/cluster/kwok.sh up` registers it again and the pods that
follow spread over both fake nodes.

`LostPods` (pure) follows the pods bound to the node from a watch's events: which were lost with
it, and what each looked like when it was deleted."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

KWOK_SH = pathlib.Path(__file__).resolve().parents[2] / "hack" / "cluster" / "kwok.sh"
WAIT_FOR_PODS_S = 30  # how long to wait for task pods to run on the node before deleting it anyway
WANT_PODS = 2  # deleted at once when this many attempts that would end by themselves run on it
GONE_WITHIN_S = 150  # re-registered after this even if the pod GC left pods behind


def unfinished(pod: Mapping[str, Any]) -> bool:
    """A pod that has not ended and is not being deleted: losing its node loses its attempt."""
    return (not (pod.get("metadata") or {}).get("deletionTimestamp")
            and ((pod.get("status") or {}).get("phase") or "Pending") in ("Pending", "Running"))


def would_end(pods: Sequence[Mapping[str, Any]]) -> int:
    """Unfinished task pods whose attempt ends by itself: every one but chaos_hang's (which the
    operator ends at its timeout anyway), so losing them can only be made good by a relaunch."""
    labels = [(p.get("metadata") or {}).get("labels") or {} for p in pods]
    return sum(1 for p, lab in zip(pods, labels)
               if unfinished(p) and "updraft.dev/run" in lab and lab.get("updraft.dev/task") != "chaos_hang")


def fate(pod: Mapping[str, Any]) -> str:
    """How a pod looked when it was deleted: its phase, and the DisruptionTarget reason if any."""
    status = pod.get("status") or {}
    reason = next((c.get("reason") for c in status.get("conditions") or []
                   if c.get("type") == "DisruptionTarget" and c.get("status") == "True"), None)
    return f"{status.get('phase') or 'Pending'}" + (f" with DisruptionTarget {reason}" if reason else "")


@dataclass
class LostPods:
    """The task pods a node took with it: unfinished when (or after) the node was deleted."""

    node: str
    tasks: dict[str, tuple[str, str]] = field(default_factory=dict)  # pod -> (run, task)
    fates: dict[str, str] = field(default_factory=dict)  # pod -> its fate() when deleted
    gone_after_s: float | None = None  # seconds from the node's deletion until its last pod went

    def see(self, kind: str, pod: Mapping[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED, DELETED) of a pod bound to the node, or a listed pod."""
        meta = pod.get("metadata") or {}
        name, labels = meta.get("name", ""), meta.get("labels") or {}
        if name not in self.tasks and unfinished(pod) and "updraft.dev/run" in labels:
            self.tasks[name] = (labels["updraft.dev/run"], labels.get("updraft.dev/task", ""))
        if kind == "DELETED" and name in self.tasks:
            self.fates[name] = fate(pod)

    def listed(self, names: set[str]) -> None:
        """A fresh listing of the node's pods (after a watch broke): a lost pod not in it is gone,
        unseen how."""
        for name in self.tasks:
            if name not in names and name not in self.fates:
                self.fates[name] = "gone unseen"

    @property
    def pods(self) -> list[str]:
        return sorted(self.tasks)

    @property
    def lost_attempts(self) -> list[str]:
        """The pods whose attempt the node took: all but those that ended by themselves first
        (Succeeded, or Failed without a DisruptionTarget: the pod GC marks only unfinished pods)."""
        return sorted(p for p in self.tasks if self.fates.get(p) not in ("Succeeded", "Failed"))

    @property
    def all_gone(self) -> bool:
        return len(self.fates) == len(self.tasks)

    def describe(self) -> str:
        by_fate = Counter(self.fates.values())
        left = len(self.tasks) - len(self.fates)
        parts = [f"{n} {what}" for what, n in sorted(by_fate.items())] + ([f"{left} still there"] if left else [])
        when = f" after {self.gone_after_s:.1f}s" if self.gone_after_s is not None else ""
        return f"{len(self.tasks)} pods on {self.node} deleted{when}: {', '.join(parts) or 'none'}"


async def lose_node(core: Any, namespace: str, node: str, down_s: float,
                    note: Callable[[str], None]) -> LostPods | None:
    """Delete `node` while task pods of `namespace` run on it, follow its pods until the pod GC
    removed them, keep it away at least `down_s`, then register it again (kwok.sh up). It waits up
    to WAIT_FOR_PODS_S for WANT_PODS attempts that would end by themselves to run on it. None when
    the node could not be deleted (not registered, or the apiserver refused for 30 s)."""
    from kubernetes_asyncio import watch

    lost = LostPods(node)
    selector = f"spec.nodeName={node}"

    async def listing() -> tuple[list[dict[str, Any]], str]:
        for _ in range(30):  # the apiserver may be restarting (another fault)
            try:
                page = await core.list_namespaced_pod(namespace, field_selector=selector)
                return ([core.api_client.sanitize_for_serialization(p) for p in page.items],
                        page.metadata.resource_version)
            except Exception:
                await asyncio.sleep(1)
        raise RuntimeError(f"node loss: the pods on {node} could not be listed for 30 s")

    deadline = time.monotonic() + WAIT_FOR_PODS_S
    pods, rv = await listing()
    while would_end(pods) < WANT_PODS and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        pods, rv = await listing()
    for p in pods:
        lost.see("LISTED", p)
    for _ in range(30):
        try:
            await core.delete_node(node)
            break
        except Exception as e:
            if getattr(e, "status", None) == 404:
                note(f"node loss skipped: {node} is not registered")
                return None
            await asyncio.sleep(1)
    else:
        note(f"node loss skipped: {node} could not be deleted for 30 s")
        return None
    t0 = time.monotonic()
    note(f"node loss: {node} deleted, {len(lost.tasks)} pods on it ({', '.join(lost.pods) or 'none'})")
    while not lost.all_gone and time.monotonic() - t0 < GONE_WITHIN_S:
        try:
            left = GONE_WITHIN_S - (time.monotonic() - t0)
            async with watch.Watch().stream(core.list_namespaced_pod, namespace, field_selector=selector,
                                            resource_version=rv, timeout_seconds=max(1, int(left))) as stream:
                async for event in stream:
                    if event["type"] == "ERROR":  # 410 Gone, say: list again
                        raise RuntimeError(str(event["raw_object"]))
                    lost.see(event["type"], event["raw_object"])
                    if lost.all_gone:
                        break
        except asyncio.CancelledError:
            raise
        except Exception:  # a cut or expired watch, the apiserver restarting: list again
            await asyncio.sleep(1)
            try:
                pods, rv = await listing()
            except Exception:
                continue
            for p in pods:
                lost.see("LISTED", p)
            lost.listed({p["metadata"]["name"] for p in pods})
    if lost.all_gone:
        lost.gone_after_s = round(time.monotonic() - t0, 1)
    note(f"node loss: {lost.describe()}")
    await asyncio.sleep(max(0.0, down_s - (time.monotonic() - t0)))
    proc = await asyncio.to_thread(subprocess.run, ["bash", str(KWOK_SH), "up"], capture_output=True, text=True,
                                   env={**os.environ, "QUIET": "1"})
    if proc.returncode == 0:
        note(f"node loss: {node} registered again and Ready, {time.monotonic() - t0:.1f}s after its deletion")
    else:
        note(f"node loss: registering {node} again FAILED: {proc.stderr.strip()[-300:]}")
    return lost
