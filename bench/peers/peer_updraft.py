"""Updraft as users install it: the chart's operator (cluster-wide, in updraft-system), driven by
Workflow and WorkflowRun objects in a namespace of the bench's own."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import peer_manifests as manifests
from peer_shapes import Shape

GROUP, VERSION = "updraft.dev", "v1alpha1"
FINAL = {"SUCCESS": "success", "FAILED": "failed", "TIMEOUT": "failed", "STOPPED": "failed"}


class Updraft:
    name = "updraft"
    run_label = "updraft.dev/run"

    def __init__(self, custom: Any, namespace: str) -> None:
        self.custom, self.namespace = custom, namespace

    def workflow_name(self, shape: Shape) -> str:
        return f"peers-{shape.name}"

    async def prepare(self, shape: Shape) -> None:
        """The Workflow, once per shape, and wait until the operator has compiled it (READY)."""
        name = self.workflow_name(shape)
        await self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflows",
                                                          manifests.updraft_workflow(shape, name))
        start = time.time()
        while time.time() - start < 120:
            wf = await self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflows", name)
            if (wf.get("status") or {}).get("workflowStatus") == "READY":
                return
            await asyncio.sleep(0.2)
        raise SystemExit(f"peers: Updraft workflow {name} not READY after 120 s (is the operator running?)")

    async def trigger(self, shape: Shape, run: str) -> None:
        await self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflowruns",
                                                          manifests.updraft_run(self.workflow_name(shape), run))

    async def state(self, run: str) -> str:
        obj = await self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, "workflowruns", run)
        return FINAL.get((obj.get("status") or {}).get("runState", ""), "")

    async def forget(self, run: str) -> None:
        """Runs are kept (the operator's retention deletes them); their pods go after the chart's
        cleanup delay, and the namespace goes at the end of the series."""


class OperatorRunning:
    """The chart's cluster-wide operator at one replica for the series, and its replica count put
    back afterwards (the integration tests run the chart with the operator scaled to 0)."""

    SELECTOR = "app.kubernetes.io/component=operator,app.kubernetes.io/part-of=updraft"

    def __init__(self) -> None:
        self.saved: list[tuple[str, str, int]] = []

    def __enter__(self) -> "OperatorRunning":
        from peer_cluster import kubectl

        found = json.loads(kubectl("get", "deploy", "-A", "-l", self.SELECTOR, "-o", "json"))["items"]
        cluster_wide = [d for d in found if not any(
            e["name"] == "UPDRAFT_WATCH_NAMESPACE" and e.get("value")
            for e in d["spec"]["template"]["spec"]["containers"][0].get("env", []))]
        if not cluster_wide:
            raise SystemExit("peers: no cluster-wide Updraft operator installed: run make images deploy")
        for d in cluster_wide:
            ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
            replicas = int(d["spec"].get("replicas") or 0)
            if replicas == 0:
                print(f"peers: scaling {ns}/{name} to 1 for the series (put back to 0 after)", flush=True)
                kubectl("-n", ns, "scale", f"deploy/{name}", "--replicas=1")
                self.saved.append((ns, name, replicas))
            kubectl("-n", ns, "rollout", "status", f"deploy/{name}", "--timeout=180s")
        return self

    def pids(self) -> list[int]:
        import peer_procstats

        return peer_procstats.find_pids("updraft", "operator", "run")

    def __exit__(self, *exc: object) -> None:
        from peer_cluster import kubectl

        for ns, name, replicas in self.saved:
            kubectl("-n", ns, "scale", f"deploy/{name}", f"--replicas={replicas}", check=False)
