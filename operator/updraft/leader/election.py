"""Leader election decisions over a coordination.k8s.io Lease (pure: the shell reads and writes
the Lease; `now` is a parameter).

One replica holds the Lease and renews it; the others wait. A holder that has not renewed for the
Lease's duration has lost it, and the next replica to look takes it over. Conflicting writes are
settled by the API server's resourceVersion check, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
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

    def expires(self) -> datetime | None:
        return None if self.renewed is None else self.renewed + timedelta(seconds=self.duration_s)


@dataclass(frozen=True)
class LeaseDecision:
    """acquire or renew: write `record`; wait: look again in `retry_in_s` seconds."""

    action: str  # "acquire" | "renew" | "wait"
    record: LeaseRecord | None
    retry_in_s: float


def decide(current: LeaseRecord | None, me: str, now: datetime, duration_s: int, renew_every_s: float) -> LeaseDecision:
    """What replica `me` does on seeing the Lease `current` at `now`."""
    if current is not None and current.holder == me:
        return LeaseDecision("renew", replace(current, renewed=now, duration_s=duration_s), renew_every_s)
    if current is None or current.holder is None:
        transitions = 0 if current is None else current.transitions + (1 if current.acquired else 0)
        return LeaseDecision("acquire", LeaseRecord(me, now, now, duration_s, transitions), renew_every_s)
    expires = current.expires()
    if expires is not None and expires > now:
        left = (expires - now).total_seconds()
        return LeaseDecision("wait", None, max(MIN_RETRY_S, min(renew_every_s, left)))
    return LeaseDecision("acquire", LeaseRecord(me, now, now, duration_s, current.transitions + 1), renew_every_s)


def released(current: LeaseRecord, now: datetime) -> LeaseRecord:
    """The Lease as a stopping holder leaves it: no holder, so a standby takes over at once."""
    return replace(current, holder=None, renewed=now)


def still_leader(last_renewed: datetime, now: datetime, renew_deadline_s: float) -> bool:
    """A leader that has not renewed within the deadline must stop acting as one."""
    return (now - last_renewed).total_seconds() < renew_deadline_s


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):  # the typed client hands datetimes
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_ts(value)


def _format(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).strftime(MICROTIME)
