"""The API server's audit log (pure): which pods and Secrets were really created, and when.

hack/cluster/up.sh has the apiserver write one JSON event per line to $LOGS/audit.log: pod creates
at RequestResponse (the response holds the new pod's UID), Secret creates, pod deletes and
evictions at Metadata, only their ResponseComplete stage. When the file reaches its size it is
renamed `audit-<time>.log` and two such backups are kept: `audit_files` reads them oldest first,
and `Audit.complete_since` says whether they still reach back to a given time (if not, events were
rotated away and no count from them can be trusted; the driver also looks for the marker Secret
it creates first)."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

CREATED = frozenset({200, 201})


@dataclass(frozen=True)
class Record:
    verb: str  # create | delete | deletecollection
    resource: str  # pods | secrets
    subresource: str  # "" or "eviction"
    namespace: str
    name: str
    uid: str  # the created object's UID (pod creates; empty otherwise)
    code: int  # the HTTP status of the answer
    at: datetime  # when the apiserver received the request
    user: str

    @property
    def applied(self) -> bool:
        return 200 <= self.code < 300


def _ts(text: str) -> datetime:
    # RFC 3339 with microseconds and Z, as the apiserver writes it
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_line(line: str) -> Record | None:
    """One audit event, or None for a line that is not a complete event about an object."""
    try:
        event: dict[str, Any] = json.loads(line)
    except ValueError:
        return None
    ref = event.get("objectRef") or {}
    if event.get("stage") != "ResponseComplete" or not ref.get("resource"):
        return None
    response = event.get("responseObject") or {}
    uid = ref.get("uid") or ((response.get("metadata") or {}).get("uid") if response.get("kind") != "Status" else "")
    name = ref.get("name") or (response.get("metadata") or {}).get("name") or ""
    return Record(verb=event.get("verb", ""), resource=ref["resource"], subresource=ref.get("subresource", ""),
                  namespace=ref.get("namespace", ""), name=name, uid=uid or "",
                  code=int((event.get("responseStatus") or {}).get("code") or 0),
                  at=_ts(event.get("requestReceivedTimestamp") or event["stageTimestamp"]),
                  user=(event.get("user") or {}).get("username", ""))


def audit_files(log: pathlib.Path) -> list[pathlib.Path]:
    """The live file and its rotated backups (`audit-<time>.log`), oldest first."""
    backups = sorted(log.parent.glob(f"{log.stem}-*{log.suffix}"))
    return backups + ([log] if log.exists() else [])


@dataclass
class Audit:
    records: list[Record] = field(default_factory=list)
    first_event: datetime | None = None  # the oldest event of the namespace still in the files

    @classmethod
    def read(cls, files: Iterable[pathlib.Path], namespace: str) -> "Audit":
        audit = cls()
        for path in files:
            with path.open(encoding="utf-8", errors="replace") as f:
                for line in f:
                    if f'"{namespace}"' not in line:  # cheap: most of the log is other namespaces'
                        continue
                    r = parse_line(line)
                    if r is None:
                        continue
                    if audit.first_event is None or r.at < audit.first_event:
                        audit.first_event = r.at
                    if r.namespace == namespace:
                        audit.records.append(r)
        return audit

    def since_marker(self, marker: str) -> "Audit | None":
        """The records from the last create of the Secret `marker` on (the driver creates it first
        in its fresh namespace, so earlier runs' objects of the same names are left out); None when
        the files no longer hold it (rotated away, or an apiserver without the audit log)."""
        marks = [r.at for r in self.records if r.resource == "secrets" and r.verb == "create" and r.name == marker
                 and r.code in CREATED]
        if not marks:
            return None
        start = max(marks)
        return Audit([r for r in self.records if r.at >= start], start)

    def complete_since(self, start: datetime) -> bool:
        """The files still hold every event from `start` on (none was rotated away)."""
        return self.first_event is not None and self.first_event <= start

    def pod_creations(self) -> dict[str, list[str]]:
        """Pod name -> the UIDs of every successful create of that name, in order."""
        out: dict[str, list[str]] = {}
        for r in sorted(self.records, key=lambda r: r.at):
            if r.resource == "pods" and not r.subresource and r.verb == "create" and r.code in CREATED:
                out.setdefault(r.name, []).append(r.uid)
        return out

    def secret_creations(self) -> set[str]:
        return {r.name for r in self.records if r.resource == "secrets" and r.verb == "create" and r.code in CREATED}
