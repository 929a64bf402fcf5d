"""A frozen view of a Workflow object (pure): its spec, its status, and the answers derived from
them ("why is it invalid", "which time zone do its schedules use", "is it being deleted")."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from updraft.model import names
from updraft.model.states import TriggerMode, WorkflowState
from updraft.model.times import parse_ts

DEFINITION_SOURCES = ("definition", "definitionConfigMapRef", "definitionS3Location")
CONDITION_DEFINITION_VALID = "DefinitionValid"


@dataclass(frozen=True)
class Workflow:
    name: str
    namespace: str
    uid: str
    generation: int
    api_name: str
    deleting: bool
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    annotations: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Workflow:
        meta = body["metadata"]
        annotations = dict(meta.get("annotations") or {})
        return cls(name=meta["name"], namespace=meta.get("namespace", ""), uid=meta.get("uid", ""),
                   generation=int(meta.get("generation") or 0),
                   api_name=annotations.get(names.ANNOTATION_API_NAME) or meta["name"],
                   deleting=bool(meta.get("deletionTimestamp")), spec=dict(body.get("spec") or {}),
                   status=dict(body.get("status") or {}), annotations=annotations,
                   created_at=parse_ts(meta.get("creationTimestamp")))

    # -- spec ---------------------------------------------------------------------------------
    @property
    def trigger_mode(self) -> str:
        return str(self.spec.get("triggerMode") or TriggerMode.SCHEDULED)

    @property
    def timezone_override(self) -> str | None:
        """`spec.timezone`: when set, it wins over the definition's own time zone."""
        return self.spec.get("timezone") or None

    @property
    def role_arn(self) -> str:
        return str(self.spec.get("roleArn") or "")

    @property
    def environment(self) -> Mapping[str, str]:
        return dict(self.spec.get("environment") or {})

    @property
    def engine_version(self) -> str | None:
        return self.spec.get("engineVersion")

    @property
    def tags(self) -> Mapping[str, str]:
        return dict(self.spec.get("tags") or {})

    @property
    def run_history_limit(self) -> int | None:
        """`spec.runHistoryLimit`: finished runs to keep (None: the operator's default)."""
        value = self.spec.get("runHistoryLimit")
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    @property
    def source(self) -> Mapping[str, Any]:
        """The spec's definition source (whichever of the three fields is set)."""
        return {k: self.spec[k] for k in DEFINITION_SOURCES if self.spec.get(k)}

    @property
    def source_digest(self) -> str:
        """Changes exactly when the spec's definition source changes."""
        return source_digest(self.source)

    # -- status -------------------------------------------------------------------------------
    @property
    def workflow_status(self) -> str:
        if self.deleting:
            return WorkflowState.DELETING
        return str(self.status.get("workflowStatus") or WorkflowState.READY)

    @property
    def latest_version(self) -> str | None:
        return self.status.get("latestVersion") or None

    @property
    def observed_generation(self) -> int:
        return int(self.status.get("observedGeneration") or 0)

    @property
    def conditions(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.status.get("conditions") or ())

    def condition(self, type_: str) -> Mapping[str, Any] | None:
        return next((c for c in self.conditions if c.get("type") == type_), None)

    @property
    def invalid_reason(self) -> str | None:
        """Why the workflow has no usable definition (the DefinitionValid=False message), else None."""
        valid = self.condition(CONDITION_DEFINITION_VALID)
        if valid is None or valid.get("status") != "False":
            return None
        return str(valid.get("message") or "the workflow definition is invalid")

    @property
    def modified_at(self) -> datetime | None:
        """When the workflow last got a new version (its creation before it had one)."""
        return parse_ts(self.status.get("modifiedAt")) or self.created_at

    @property
    def last_scheduled(self) -> datetime | None:
        return parse_ts(self.status.get("lastScheduledTime"))

    @property
    def schedule_since(self) -> datetime | None:
        return parse_ts(self.status.get("scheduleSince"))

    @property
    def compiled(self) -> Compiled | None:
        """What the API compiled for this spec (its annotation), when it still matches the spec."""
        compiled = Compiled.parse(self.annotations.get(names.ANNOTATION_COMPILED))
        return compiled if compiled is not None and compiled.source_digest == self.source_digest else None


@dataclass(frozen=True)
class Compiled:
    """The API's record of what it read and validated for a spec: the S3 object version it read
    (so the operator reads the same bytes) and the version id it answered with."""

    source_digest: str
    version_id: str
    s3_version_id: str | None = None

    def encode(self) -> str:
        return json.dumps({"source": self.source_digest, "version": self.version_id,
                           **({"s3VersionId": self.s3_version_id} if self.s3_version_id else {})},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str | None) -> Compiled | None:
        if not text:
            return None
        try:
            d = json.loads(text)
            return cls(str(d["source"]), str(d["version"]), d.get("s3VersionId"))
        except (ValueError, KeyError, TypeError):
            return None  # written by someone else: ignored, the operator compiles itself


def source_digest(source: Mapping[str, Any]) -> str:
    canonical = json.dumps(source, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]



def created_before(a: Workflow, b: Workflow) -> bool:
    """Whether `a` came before `b`: by creation time, then namespace and name (one total order,
    the same on every replica); a workflow without a creation time comes last."""
    last = datetime.max.replace(tzinfo=timezone.utc)
    return a.uid != b.uid and (a.created_at or last, a.namespace, a.name) < (b.created_at or last, b.namespace, b.name)
