"""A frozen view of a WorkflowRun object (pure), and the rule that says which version it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from updraft.model.states import RunState
from updraft.model.times import parse_ts
from updraft.model.workflow import Workflow


@dataclass(frozen=True)
class WorkflowRun:
    name: str  # also the run id
    namespace: str
    uid: str
    generation: int
    workflow: str
    run_type: str  # SCHEDULED | ON_DEMAND
    created_at: datetime | None
    logical_date: datetime | None
    spec_version: str | None  # the version the run was started with, if pinned
    stop_requested: bool
    override_parameters: Mapping[str, Any]
    status: Mapping[str, Any]
    owner_uids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> WorkflowRun:
        meta, spec = body["metadata"], body.get("spec") or {}
        return cls(name=meta["name"], namespace=meta.get("namespace", ""), uid=meta.get("uid", ""),
                   generation=int(meta.get("generation") or 0), workflow=spec.get("workflowName", ""),
                   run_type=spec.get("runType") or "ON_DEMAND", created_at=parse_ts(meta.get("creationTimestamp")),
                   logical_date=parse_ts(spec.get("logicalDate")), spec_version=spec.get("workflowVersion") or None,
                   stop_requested=bool(spec.get("stop")),
                   override_parameters=dict(spec.get("overrideParameters") or {}),
                   status=dict(body.get("status") or {}),
                   owner_uids=frozenset(o.get("uid", "") for o in meta.get("ownerReferences") or ()))

    @property
    def run_state(self) -> str:
        """The state as written ("" before any operator looked at the run)."""
        return str(self.status.get("runState") or "")

    @property
    def api_state(self) -> str:
        """The state as the API reports it: a run nobody picked up yet is STARTING."""
        return self.run_state or RunState.STARTING

    @property
    def is_final(self) -> bool:
        return self.run_state in RunState.FINAL

    @property
    def is_waiting(self) -> bool:
        return self.run_state in RunState.WAITING

    @property
    def version(self) -> str | None:
        """The version the run uses once known: what the operator recorded, else what it was started with."""
        return self.status.get("workflowVersion") or self.spec_version

    @property
    def launch(self) -> Launch | None:
        """What the run's pods are made with, recorded once when it was admitted (None before)."""
        raw = self.status.get("launch")
        return Launch.from_dict(raw) if isinstance(raw, Mapping) else None

    @property
    def is_scheduled(self) -> bool:
        return self.run_type == "SCHEDULED"


@dataclass(frozen=True)
class Launch:
    """The Workflow fields a run's pods are built from (role, environment, runner image), recorded
    in `status.launch` when the run is admitted: every pod of one run uses the same ones, whatever
    happens to the Workflow while it runs (an update, or its deletion)."""

    image: str
    role_arn: str
    environment: Mapping[str, str] = field(default_factory=dict)
    workflow_id: str = ""  # the id in the workflow's ARN (log stream names)
    log_group: str | None = None  # where task logs go (None: they stay on the pods)

    def to_dict(self) -> dict[str, Any]:
        d = {"image": self.image, "roleArn": self.role_arn, "environment": dict(self.environment),
             "workflowId": self.workflow_id, "logGroup": self.log_group}
        return {k: v for k, v in d.items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Launch:
        return cls(image=str(d.get("image") or ""), role_arn=str(d.get("roleArn") or ""),
                   environment={str(k): str(v) for k, v in (d.get("environment") or {}).items()},
                   workflow_id=str(d.get("workflowId") or ""), log_group=d.get("logGroup") or None)


@dataclass(frozen=True)
class VersionChoice:
    """Which version a run uses: `version`, or `error` saying why there is none, or neither (the
    workflow has no version yet: ask again soon)."""

    version: str | None = None
    error: str | None = None


def choose_version(run: WorkflowRun, workflow: Workflow | None) -> VersionChoice:
    """The run's version: the one recorded or pinned; else, for a run not started yet, the
    workflow's latest version (a run is bound to the version that is latest when it starts)."""
    if run.version:
        return VersionChoice(run.version)
    if workflow is None:
        return VersionChoice(error=f"workflow {run.workflow!r} not found")
    if workflow.latest_version:
        return VersionChoice(workflow.latest_version)
    if workflow.invalid_reason is not None:
        return VersionChoice(error=workflow.invalid_reason)
    return VersionChoice()
