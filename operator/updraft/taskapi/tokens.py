"""Per-attempt task-API tokens (pure): HMAC of the attempt's identity under the operator's key.

A token names one pod of one task attempt of one run *object*: the run's uid is in the HMAC, so a
run deleted and made again under the same name (a new uid) accepts none of the old tokens, and
the pod's name is in it, so a token works only for the pod it was minted for (the task API also
checks that the pod is still the task's current one and that the run is not finished). It lets
that pod push XCom for its own task and pull XCom of any task of the same run, nothing else. The
operator keeps no token table: it recomputes the HMAC to check one.

The token is `<pod name>.<hex HMAC-SHA256>`: the pod name travels in the clear (the task API
needs it to recompute the HMAC; pod names are no secret), the uid is read from the run."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_POD = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a DNS-1123 label, as pod names are here
_MAC = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Attempt:
    namespace: str
    run: str
    task_id: str
    attempt: int
    run_uid: str
    pod: str

    def message(self) -> bytes:
        return "\n".join(("v2", self.namespace, self.run, self.run_uid, self.task_id, str(self.attempt),
                          self.pod)).encode()


def token(key: bytes, attempt: Attempt) -> str:
    return f"{attempt.pod}.{hmac.new(key, attempt.message(), hashlib.sha256).hexdigest()}"


def pod_of(presented: str) -> str | None:
    """The pod a presented token claims to be for, or None when it is not shaped like a token."""
    pod, dot, mac = (presented or "").rpartition(".")
    return pod if dot and _POD.fullmatch(pod) and _MAC.fullmatch(mac) else None


def verify(key: bytes, attempt: Attempt, presented: str) -> bool:
    return hmac.compare_digest(token(key, attempt).encode(), (presented or "").encode())
