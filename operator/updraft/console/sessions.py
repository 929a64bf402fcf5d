"""Console sessions: launch tokens made by CreateAirflowUiUrl, redeemed once for a session bound to
the caller and to the network address that redeemed it (no clock: `now` is a parameter).

- A launch token is 32 random bytes (URL-safe text), valid ExpiresInSeconds (5-300), used once:
  redeeming removes it, so a second use (a replay, a prefetching proxy) finds nothing.
- A session carries the principal of the CreateAirflowUiUrl call (its ARN and policies, as the
  SigV4 check found them), the client address that redeemed the token, its expiry
  (SessionDurationInSeconds, 1-43200) and a CSRF token for the console's actions. Its cookie value
  is another random secret; the SessionId (32 characters [a-z0-9], as the model says) names it in
  the audit trail only.
- Both live in this process's memory, bounded (MAX_SESSIONS; the oldest expiring go first). With
  several API replicas, a launch URL must reach the replica that made it (sticky sessions); a
  Secret-backed store is the documented next step (docs/console.md)."""

from __future__ import annotations

import hmac
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from updraft.api.credentials import Principal

MAX_SESSIONS = 10_000
SESSION_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Session:
    session_id: str
    principal: Principal
    client_ip: str
    expires_at: datetime
    csrf_token: str


@dataclass(frozen=True)
class Launch:
    token: str
    session_id: str
    principal: Principal
    url_expires_at: datetime
    session_expires_at: datetime


@dataclass
class SessionStore:
    max_sessions: int = MAX_SESSIONS
    _launches: dict[str, Launch] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)  # cookie value -> session

    def _prune(self, now: datetime) -> None:
        for token in [t for t, launch in self._launches.items() if launch.url_expires_at <= now]:
            del self._launches[token]
        for cookie in [c for c, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[cookie]
        while len(self._launches) + len(self._sessions) >= self.max_sessions and (self._launches or self._sessions):
            pool: dict[str, Launch | Session] = dict(self._launches) if self._launches else dict(self._sessions)
            oldest = min(pool, key=lambda k: getattr(pool[k], "url_expires_at", None) or getattr(pool[k], "expires_at"))
            self._launches.pop(oldest, None)
            self._sessions.pop(oldest, None)

    def launch(self, principal: Principal, now: datetime, url_seconds: int, session_seconds: int) -> Launch:
        """A new single-use launch token for `principal`."""
        self._prune(now)
        made = Launch(token=secrets.token_urlsafe(32),
                      session_id="".join(secrets.choice(SESSION_ID_ALPHABET) for _ in range(32)),
                      principal=principal, url_expires_at=now + timedelta(seconds=url_seconds),
                      session_expires_at=now + timedelta(seconds=session_seconds))
        self._launches[made.token] = made
        return made

    def redeem(self, token: str, client_ip: str, now: datetime) -> tuple[str, Session] | None:
        """(cookie value, session) for a valid unused token; None otherwise. The token is gone after."""
        launch = self._launches.pop(token, None) if isinstance(token, str) else None
        if launch is None or launch.url_expires_at <= now or launch.session_expires_at <= now:
            return None
        self._prune(now)
        session = Session(session_id=launch.session_id, principal=launch.principal, client_ip=client_ip,
                          expires_at=launch.session_expires_at, csrf_token=secrets.token_urlsafe(24))
        cookie = secrets.token_urlsafe(32)
        self._sessions[cookie] = session
        return cookie, session

    def find(self, cookie: str | None, client_ip: str, now: datetime) -> Session | None:
        """The session a cookie names, if it has not expired and is used from its own address."""
        session = self._sessions.get(cookie or "")
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[cookie or ""]
            return None
        return session if hmac.compare_digest(session.client_ip, client_ip) else None

    def end(self, cookie: str | None) -> Session | None:
        return self._sessions.pop(cookie or "", None)


def csrf_ok(expected: str, presented: object) -> bool:
    """Whether a form carried the session's CSRF token (compared in constant time)."""
    return bool(expected) and isinstance(presented, str) and hmac.compare_digest(expected.encode(), presented.encode())
