"""A frozen view of a WorkflowVersion object (pure): one immutable, validated version of a
workflow's definition, with its compiled graph (`spec.graph`, the JSON form of a TaskGraph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from updraft.model.times import parse_ts


@dataclass(frozen=True)
class WorkflowVersion:
    name: str
    namespace: str
    uid: str
    workflow: str
    version_id: str
    created_at: datetime | None
    graph: Mapping[str, Any] | None  # None: made before versions stored their graph
    definition: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    schedule: str | None = None
    timezone: str | None = None
    trigger_mode: str | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> WorkflowVersion:
        meta, spec = body["metadata"], body.get("spec") or {}
        schedule = spec.get("schedule")
        return cls(name=meta["name"], namespace=meta.get("namespace", ""), uid=meta.get("uid", ""),
                   workflow=spec.get("workflowName", ""), version_id=spec.get("versionId", ""),
                   created_at=parse_ts(meta.get("creationTimestamp")), graph=spec.get("graph"),
                   definition=spec.get("definition") or "", source=dict(spec.get("source") or {}),
                   schedule=None if schedule in (None, "", "None") else schedule, timezone=spec.get("timezone"),
                   trigger_mode=spec.get("triggerMode"), warnings=tuple(spec.get("warnings") or ()))
