"""A small world for the fault tier's targeted tests: the server with the chart's RBAC, the fake
kubelet, one workflow and its runs, and an operator process driven second by second (no random
faults: each test makes its own)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fault_kubelet import OK, Kubelet
from fault_server import Server
from fault_sim import NS, T0

from updraft.config import Settings
from updraft.engine import Decision
from updraft.handlers.context import Context
from updraft.handlers.runs import reconcile_run
from updraft.handlers.workflows import reconcile_workflow
from updraft.model import names


@dataclass
class World:
    now: datetime = T0
    settings: Settings = field(default_factory=lambda: Settings(task_api_url="http://task-api:8081",
                                                                pod_cleanup_delay_s=30))
    events: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = Server(lambda: self.now)
        self.scripts: dict[tuple[str, str], str] = {}
        self.kubelet = Kubelet(self.server, NS, self.scripts, random.Random(0))
        self.ctx = self.restart()

    def restart(self) -> Context:
        """A new operator process (nothing kept but the cluster's objects)."""
        self.ctx = Context(settings=self.settings, kube=self.server.client(), s3_client_factory=lambda: None,  # type: ignore[arg-type]
                           clock=lambda: self.now, task_api_key=b"k")
        return self.ctx

    async def workflow(self, name: str, definition: str, **spec: Any) -> None:
        body = {"apiVersion": names.API_VERSION, "kind": "Workflow", "metadata": {"name": name, "namespace": NS},
                "spec": {"roleArn": "arn:aws:iam::123456789012:role/first", "definition": definition, **spec}}
        if ("Workflow", NS, name) in self.server.objects:
            await self.server.patch("Workflow", name, NS, {"spec": body["spec"]})
        else:
            await self.server.create(body, NS)
        status = await reconcile_workflow(self.ctx, await self.server.get("Workflow", name, NS))
        await self.server.patch_status("Workflow", name, NS, status)

    async def run(self, workflow: str, name: str, behaviours: dict[str, str] | None = None) -> None:
        await self.server.create({"apiVersion": names.API_VERSION, "kind": "WorkflowRun",
                                  "metadata": {"name": name, "namespace": NS},
                                  "spec": {"workflowName": workflow, "runType": "ON_DEMAND"}}, NS)
        for task, behaviour in (behaviours or {}).items():
            self.scripts[(name, task)] = behaviour

    async def reconcile(self, run: str) -> Decision | None:
        for task in self.status(run).get("taskInstances") or []:
            self.scripts.setdefault((run, task["taskId"]), OK)
        decision = await reconcile_run(self.ctx, NS, run, lambda obj, *e: self.events.append(e))  # type: ignore[misc]
        for task in self.status(run).get("taskInstances") or []:
            self.scripts.setdefault((run, task["taskId"]), OK)
        return decision

    async def tick(self, *runs: str, seconds: int = 1) -> None:
        """Let time pass; every run is reconciled every second (as if woken by its pods)."""
        for _ in range(seconds):
            self.now += timedelta(seconds=1)
            self.kubelet.step(self.now)
            for run in runs:
                await self.reconcile(run)

    def status(self, run: str) -> dict[str, Any]:
        return dict(self.server.objects[("WorkflowRun", NS, run)].get("status") or {})

    def task(self, run: str, task: str) -> dict[str, Any]:
        return next(t for t in self.status(run).get("taskInstances") or [] if t["taskId"] == task)

    def pods(self, run: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.server.of("Pod", NS) if run is None or o["metadata"]["labels"][names.LABEL_RUN] == run]

    def created(self, kind: str = "Pod") -> list[str]:
        return [name for _, k, name, _ in self.server.creates if k == kind]

    def secrets(self) -> list[str]:
        return [o["metadata"]["name"] for o in self.server.of("Secret", NS)]
