"""Leader election decisions over a coordination.k8s.io Lease (pure: the shell reads and writes
the Lease; `now` is a parameter).

One replica holds the Lease and renews it; the others wait. A holder that has not renewed for the
Lease's duration has lost it, and the next replica to look takes it over. Conflicting writes are
settled by the API server's resourceVersion check, not here.

Expiry is measured on the observer's own monotonic clock, never by comparing the holder's
`renewTime` (the holder's wall clock) with the observer's wall clock: a standby remembers when it
first saw the Lease's current record (`Sighting`) and takes over only once that record has stayed
unchanged for the Lease's duration (as client-go does). Clock skew between replicas, or a wall
clock stepped by NTP, then neither hands the Lease to a standby early nor keeps it from taking
over. The times written into the Lease are informational.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Mapping

from updraft.model.times import parse_ts

MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"
MIN_RETRY_S = 0.5


@dataclass(frozen=True)
class LeaseRecord:
    """The fields of a Lease's spec that election reads and writes."""

    holder: str | None
    acquired: datetime | None
    renewed: datetime | None
    duration_s: int
    transitions: int = 0

    @classmethod
    def from_lease(cls, obj: Mapping[str, Any]) -> "LeaseRecord | None":
        """From a Lease as the API returns it (a dict); None when it has no spec."""
        spec = obj.get("spec") or {}
        if not spec:
            return None
        return cls(holder=spec.get("holderIdentity") or None, acquired=_parse(spec.get("acquireTime")),
                   renewed=_parse(spec.get("renewTime")), duration_s=int(spec.get("leaseDurationSeconds") or 0),
                   transitions=int(spec.get("leaseTransitions") or 0))

    def to_spec(self) -> dict[str, Any]:
        return {"holderIdentity": self.holder, "acquireTime": _format(self.acquired),
                "renewTime": _format(self.renewed), "leaseDurationSeconds": self.duration_s,
                "leaseTransitions": self.transitions}



@dataclass(frozen=True)
class Sighting:
    """A Lease record as this replica saw it, and when it first saw that record, in seconds of
    its own monotonic clock."""

    record: LeaseRecord | None
    since: float

    def unchanged_for(self, mono: float) -> float:
        return max(0.0, mono - self.since)


def sight(previous: Sighting | None, record: LeaseRecord | None, mono: float) -> Sighting:
    """The sighting after looking at the Lease at `mono`: the same one while the record is
    unchanged (a renewal changes `renewed`), a new one from `mono` when it changed."""
    if previous is not None and previous.record == record:
        return previous
    return Sighting(record, mono)


@dataclass(frozen=True)
class LeaseDecision:
    """acquire or renew: write `record`; wait: look again in `retry_in_s` seconds."""

    action: str  # "acquire" | "renew" | "wait"
    record: LeaseRecord | None
    retry_in_s: float


def decide(current: LeaseRecord | None, me: str, now: datetime, duration_s: int, renew_every_s: float,
           unchanged_for_s: float) -> LeaseDecision:
    """What replica `me` does on seeing the Lease `current`, which it has seen unchanged for
    `unchanged_for_s` seconds of its own clock. `now` is only written into the record."""
    if current is not None and current.holder == me:
        return LeaseDecision("renew", replace(current, renewed=now, duration_s=duration_s), renew_every_s)
    if current is None or current.holder is None:
        transitions = 0 if current is None else current.transitions + (1 if current.acquired else 0)
        return LeaseDecision("acquire", LeaseRecord(me, now, now, duration_s, transitions), renew_every_s)
    # the holder's own duration decides; a record without one gets ours
    left = (current.duration_s or duration_s) - unchanged_for_s
    if left > 0:
        return LeaseDecision("wait", None, max(MIN_RETRY_S, min(renew_every_s, left)))
    return LeaseDecision("acquire", LeaseRecord(me, now, now, duration_s, current.transitions + 1), renew_every_s)


def released(current: LeaseRecord, now: datetime) -> LeaseRecord:
    """The Lease as a stopping holder leaves it: no holder, so a standby takes over at once."""
    return replace(current, holder=None, renewed=now)


def still_leader(last_renewed: float, mono: float, renew_deadline_s: float) -> bool:
    """A leader that has not renewed within the deadline must stop acting as one. Both times are
    seconds of the leader's monotonic clock; `last_renewed` is when its last successful renewal
    was *sent* (the apiserver stored it later, so the standby's count starts later still)."""
    return mono - last_renewed < renew_deadline_s


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):  # the typed client hands datetimes
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_ts(value)


def _format(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).strftime(MICROTIME)
