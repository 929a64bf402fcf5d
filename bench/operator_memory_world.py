"""The in-process world of bench/operator_memory.py: an API server in memory that answers the
operator's Kubernetes adapter (`Kube`'s methods) and feeds kopf's real watch machinery, and a
kubelet that moves pods along. Nothing here is the operator's: the operator's part is kopf's
queueing and processing, the handlers of `updraft.handlers.app`, the run loop and `reconcile_run`.

- WorkflowRuns and Pods are kept as compact JSON text (what etcd keeps), so that the server's own
  share of the process's memory is known to the byte (`stored_bytes`) and subtracted; Workflows,
  versions and ConfigMaps (100 workflows: constant) live in the unit tier's FakeKube underneath.
- Every write of a run or pod is a watch event, decoded (`json.loads`) where kopf's watch stream
  decodes it: the bodies the operator keeps are the ones a real watch would have handed it.
- The bodies get what the apiserver and the kubelet add: managedFields of each writer, the pod's
  defaulted spec fields, its service-account volume, a Running (then Succeeded) status with
  conditions and a container status, a node name and IPs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from fakekube import FakeKube, _merge  # noqa: E402  (the unit tier's in-memory API)

from updraft.k8s.resources import Created, NotFound  # noqa: E402
from updraft.model.times import format_ts  # noqa: E402

TEXT_KINDS = ("WorkflowRun", "Pod")
PLURALS = {"WorkflowRun": "workflowruns", "Pod": "pods", "Workflow": "workflows"}


def fields_v1(obj: Any) -> Any:
    """A managedFields `fieldsV1` of the shape the apiserver writes (f:<key> for every field)."""
    if isinstance(obj, Mapping):
        return {**{f"f:{k}": fields_v1(v) for k, v in obj.items()}, ".": {}} if obj else {}
    if isinstance(obj, list):
        return {f"k:{json.dumps(item.get('name') or item.get('type') or i)}": fields_v1(item) if isinstance(item, Mapping) else {}
                for i, item in enumerate(obj) if isinstance(item, Mapping)} or {}
    return {}


def managed(manager: str, operation: str, fields: Mapping[str, Any], when: str, sub: str | None = None) -> dict[str, Any]:
    entry = {"manager": manager, "operation": operation, "apiVersion": "v1", "time": when,
             "fieldsType": "FieldsV1", "fieldsV1": fields_v1(fields)}
    if sub:
        entry["subresource"] = sub
    return entry


class Server(FakeKube):
    """FakeKube for the constant objects, JSON text plus watch events for runs and pods."""

    def __init__(self) -> None:
        super().__init__(lambda: datetime.now(timezone.utc))  # the operator's clock: the real one
        self.texts: dict[tuple[str, str, str], str] = {}
        self.watches: dict[str, asyncio.Queue[tuple[str, str]]] = {p: asyncio.Queue() for p in PLURALS.values()}
        self._rv = itertools.count(10_000)
        self.on_write: Any = None
        self.writes = 0

    def stored_bytes(self) -> int:
        return sum(sys.getsizeof(t) for t in self.texts.values())

    def _save(self, kind: str, obj: dict[str, Any], type_: str) -> dict[str, Any]:
        meta = obj["metadata"]
        meta["resourceVersion"] = str(next(self._rv))
        text = json.dumps(obj, separators=(",", ":"))
        key = (kind, meta["namespace"], meta["name"])
        if type_ == "DELETED":
            self.texts.pop(key, None)
        else:
            self.texts[key] = text
        self.watches[PLURALS[kind]].put_nowait((type_, text))
        self.writes += 1
        return json.loads(text)

    def _load(self, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
        text = self.texts.get((kind, namespace or "", name))
        if text is None:
            raise NotFound(404, "NotFound", f"{kind} {name} not found")
        return json.loads(text)

    def _told(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.on_write is not None:
            self.on_write(kind, body)
        return body

    async def create(self, body: Mapping[str, Any], namespace: str | None = None, *,
                     read_existing: bool = True) -> Created:
        kind = body["kind"]
        if kind not in TEXT_KINDS:
            return await super().create(body, namespace, read_existing=read_existing)
        await asyncio.sleep(0)
        obj = json.loads(json.dumps(body))
        meta = obj["metadata"]
        ns = namespace or meta.get("namespace") or ""
        if (kind, ns, meta["name"]) in self.texts:
            return Created(self._load(kind, meta["name"], ns), existed=True)
        now = format_ts(self.clock())
        meta.update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now)
        if kind == "Pod":
            _default_pod(obj)
            meta["managedFields"] = [managed("updraft-operator", "Update", {"metadata": {k: v for k, v in meta.items()
                                     if k in ("labels", "annotations", "ownerReferences")}, "spec": obj["spec"]}, now)]
        else:
            meta["generation"] = 1
            meta["managedFields"] = [managed("bench-client", "Update", {"metadata": {"labels": meta.get("labels") or {},
                                     "ownerReferences": meta.get("ownerReferences") or []}, "spec": obj["spec"]}, now)]
        return Created(self._told(kind, self._save(kind, obj, "ADDED")), existed=False)

    async def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if kind not in TEXT_KINDS:
            return await super().get(kind, name, namespace)
        await asyncio.sleep(0)
        return self._load(kind, name, namespace)

    async def patch(self, kind: str, name: str, namespace: str | None, patch: Mapping[str, Any]) -> dict[str, Any]:
        if kind not in TEXT_KINDS:
            return await super().patch(kind, name, namespace, patch)
        await asyncio.sleep(0)
        obj = _merge(self._load(kind, name, namespace), {k: v for k, v in patch.items() if k != "status"})
        return self._told(kind, self._save(kind, obj, "MODIFIED"))

    async def patch_status(self, kind: str, name: str, namespace: str | None,
                           status: Mapping[str, Any]) -> dict[str, Any]:
        if kind not in TEXT_KINDS:
            return await super().patch_status(kind, name, namespace, status)
        await asyncio.sleep(0)
        obj = self._load(kind, name, namespace)
        obj.setdefault("status", {})
        _merge(obj["status"], status)
        now = format_ts(self.clock())
        entries = [m for m in obj["metadata"].get("managedFields") or [] if m.get("subresource") != "status"]
        obj["metadata"]["managedFields"] = entries + [managed("updraft-operator", "Update", {"status": obj["status"]},
                                                              now, "status")]
        return self._told(kind, self._save(kind, obj, "MODIFIED"))

    async def delete(self, kind: str, name: str, namespace: str | None = None, grace_seconds: int | None = None) -> bool:
        if kind not in TEXT_KINDS:
            return await super().delete(kind, name, namespace, grace_seconds)
        await asyncio.sleep(0)
        try:
            obj = self._load(kind, name, namespace)
        except NotFound:
            return False
        self._save(kind, obj, "DELETED")  # a pod on a live node goes at once here: its kubelet is quick
        return True

    def set_pod_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """The kubelet's status write."""
        try:
            obj = self._load("Pod", name, namespace)
        except NotFound:
            return
        obj["status"] = dict(status)
        entries = [m for m in obj["metadata"]["managedFields"] if m.get("manager") != "kubelet"]
        obj["metadata"]["managedFields"] = entries + [managed("kubelet", "Update", {"status": status},
                                                              format_ts(self.clock()), "status")]
        self._save("Pod", obj, "MODIFIED")

    def pods(self) -> list[tuple[str, str]]:
        return [(ns, name) for (kind, ns, name) in self.texts if kind == "Pod"]

    async def watch(self, plural: str) -> AsyncIterator[dict[str, Any]]:
        """The watch stream as kopf's watcher reads it: each event decoded from the wire."""
        queue = self.watches[plural]
        while True:
            type_, text = await queue.get()
            yield {"type": type_, "object": json.loads(text)}

    def idle(self) -> bool:
        return all(q.empty() for q in self.watches.values())


def _default_pod(pod: dict[str, Any]) -> None:
    """What admission and the scheduler add to a pod: defaults, the service-account volume, a node."""
    spec = pod["spec"]
    spec.update(dnsPolicy="ClusterFirst", schedulerName="default-scheduler", priority=0, nodeName="kwok-node-0",
                preemptionPolicy="PreemptLowerPriority", serviceAccount=spec.get("serviceAccountName"))
    spec.setdefault("tolerations", [])
    spec["tolerations"] += [{"key": f"node.kubernetes.io/{k}", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300} for k in ("not-ready", "unreachable")]
    for c in spec["containers"]:
        c["volumeMounts"].append({"name": "kube-api-access-x7k2p", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    spec["volumes"].append({"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}}]}})


def pod_status(created: str, now: str, phase: str, image: str) -> dict[str, Any]:
    """A kubelet's status of a task pod: Running, or Succeeded with the runner's report."""
    done = phase == "Succeeded"
    state = ({"terminated": {"exitCode": 0, "reason": "Completed", "message": '{"state":"success"}',
                             "startedAt": created, "finishedAt": now, "containerID": "containerd://" + "e" * 64}}
             if done else {"running": {"startedAt": created}})
    ready = "False" if done else "True"
    conditions = [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": created,
                   **({"reason": "PodCompleted"} if done and t != "PodScheduled" else {})}
                  for t, s in (("PodReadyToStartContainers", ready), ("Initialized", "True"), ("Ready", ready),
                               ("ContainersReady", ready), ("PodScheduled", "True"))]
    return {"phase": phase, "conditions": conditions, "hostIP": "10.0.0.7", "hostIPs": [{"ip": "10.0.0.7"}],
            "podIP": "10.244.3.17", "podIPs": [{"ip": "10.244.3.17"}], "startTime": created, "qosClass": "Burstable",
            "containerStatuses": [{"name": "task", "state": state, "lastState": {}, "ready": not done,
                                   "restartCount": 0, "image": image, "imageID": image + "@sha256:" + "a" * 64,
                                   "containerID": "containerd://" + "e" * 64, "started": not done,
                                   "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}]}
