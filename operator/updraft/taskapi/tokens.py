"""Per-attempt task-API tokens (pure): HMAC of the attempt's identity under the operator's key.

A token names one task attempt of one run. It lets that attempt push XCom for its own task and
pull XCom of any task of the same run, nothing else. The operator keeps no token table: it
recomputes the HMAC to check one."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    namespace: str
    run: str
    task_id: str
    attempt: int

    def message(self) -> bytes:
        return f"{self.namespace}\n{self.run}\n{self.task_id}\n{self.attempt}".encode()


def token(key: bytes, attempt: Attempt) -> str:
    return hmac.new(key, attempt.message(), hashlib.sha256).hexdigest()


def verify(key: bytes, attempt: Attempt, presented: str) -> bool:
    return hmac.compare_digest(token(key, attempt), presented or "")
