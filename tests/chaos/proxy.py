"""A fault proxy between the operator and the API server.

The operator's kubeconfig points at one listener of this proxy (plain HTTP on 127.0.0.1; the
operator's own ServiceAccount token passes through untouched, so the API server authenticates and
authorizes the operator as always). Each operator replica gets its own listener, so a fault can
pick a replica. What it does besides forwarding:

- `arm_kill(target)`: the next write of that kind (Secret create, pod create, run status patch,
  pod delete) that the API server applies is answered by killing the replica (`on_kill`) before
  the answer reaches it: the write happened, the operator never learns it;
- `errors(code, share, seconds, after_applying)`: for a while, a share of the non-watch calls is
  answered with that status (429 with Retry-After); with `after_applying` the call is forwarded
  first, so the write happens and the operator sees a failure;
- `stall(seconds)`: calls that arrive meanwhile are held that long before they are forwarded
  (longer than the operator's call deadline: they time out on its side and still happen later);
- `cut_watches()`: every open watch stream is cut at once;
- `freeze(replica, seconds)`: nothing of that replica's traffic moves either way for a while (its
  calls are held before they are forwarded, its open streams deliver nothing): what a paused
  process looks like from the API server (the suite never SIGSTOPs a process), and calls it sent
  just before are delivered late, as from a process paused between its fence check and its write.

While the API server restarts, calls fail with 503 (the upstream refused the connection)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

REPLICA = web.AppKey("replica", int)
HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade",
                 "proxy-connection", "te", "trailer"})
WRITES = {
    "secret-create": ("POST", re.compile(r"^/api/v1/namespaces/[^/]+/secrets$")),
    "pod-create": ("POST", re.compile(r"^/api/v1/namespaces/[^/]+/pods$")),
    "run-status-patch": ("PATCH", re.compile(r"^/apis/updraft\.dev/v1alpha1/namespaces/[^/]+/workflowruns/[^/]+/status$")),
    "pod-delete": ("DELETE", re.compile(r"^/api/v1/namespaces/[^/]+/pods/[^/]+$")),
}


def write_kind(method: str, path: str) -> str | None:
    """Which targeted write a request is, if any."""
    for kind, (m, pattern) in WRITES.items():
        if method == m and pattern.match(path):
            return kind
    return None


def written_name(kind: str, path: str, body: bytes) -> str:
    """The name of the object a targeted write wrote (for the timeline)."""
    if kind.endswith("-create"):
        try:
            return str(json.loads(body)["metadata"]["name"])
        except (ValueError, KeyError, TypeError):
            return "?"
    parts = path.split("/")
    return parts[-2] if kind == "run-status-patch" else parts[-1]


def status_body(code: int, message: str) -> bytes:
    reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(code, "InternalError")
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


@dataclass
class _Window:
    until: float = 0.0
    code: int = 500
    share: float = 0.0
    after_applying: bool = False


@dataclass
class FaultProxy:
    upstream: str  # https://host:port of the API server
    ca_file: str
    on_kill: Callable[[int, str], None]  # (replica, what was written) -> the replica is killed
    log: Callable[[str], None]
    rng: random.Random
    armed: list[str] = field(default_factory=list)  # targets of armed kills, first first
    fired: list[str] = field(default_factory=list)
    _errors: _Window = field(default_factory=_Window)
    _stall_until: float = 0.0
    _stall_s: float = 0.0
    _watches: set[Any] = field(default_factory=set)
    _frozen_until: dict[int, float] = field(default_factory=dict)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _session: ClientSession | None = None
    leader: Callable[[], int] = lambda: 0  # the replica that armed kills hit (the one leading)

    async def start(self, replicas: int) -> list[int]:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        self._session = ClientSession(connector=TCPConnector(ssl=ctx, limit=0), auto_decompress=False,
                                      timeout=ClientTimeout(total=None, sock_connect=5))
        ports = []
        for replica in range(replicas):
            app = web.Application(client_max_size=64 * 2**20)
            app[REPLICA] = replica
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            ports.append(runner.addresses[0][1])
        return ports

    async def close(self) -> None:
        self.cut_watches(log=False)
        for runner in self._runners:
            await runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- faults ------------------------------------------------------------------------------
    def arm_kill(self, target: str) -> None:
        self.armed.append(target)

    def errors(self, code: int, share: float, seconds: float, after_applying: bool) -> None:
        self._errors = _Window(time.monotonic() + seconds, code, share, after_applying)

    def stall(self, seconds: float) -> None:
        self._stall_until, self._stall_s = time.monotonic() + seconds, seconds

    def freeze(self, replica: int, seconds: float) -> None:
        self._frozen_until[replica] = time.monotonic() + seconds

    async def _gate(self, replica: int) -> None:
        while (wait := self._frozen_until.get(replica, 0.0) - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def cut_watches(self, log: bool = True) -> int:
        n = len(self._watches)
        for transport in list(self._watches):
            transport.abort()
        self._watches.clear()
        if log:
            self.log(f"cut {n} watch streams")
        return n

    # -- forwarding --------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._forward(request)
        except ConnectionError:  # the caller went away (killed, or it gave up on a held call)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        replica = request.app[REPLICA]
        watch = request.query.get("watch") in ("true", "1")
        await self._gate(replica)
        now = time.monotonic()
        if now < self._stall_until and not watch:
            await asyncio.sleep(self._stall_s)
        window = self._errors
        fail = not watch and now < window.until and self.rng.random() < window.share
        if fail and not window.after_applying:
            return self._status(window.code, "chaos: answered by the fault proxy, not forwarded")
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        assert self._session is not None
        try:
            upstream = await self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                                   data=body or None, allow_redirects=False)
        except (ClientError, OSError, asyncio.TimeoutError) as e:
            return self._status(503, f"chaos proxy: the API server is unreachable ({type(e).__name__})")
        try:
            kind = write_kind(request.method, request.path)
            if (kind is not None and self.armed and kind in self.armed and upstream.status < 300
                    and replica == self.leader()):
                self.armed.remove(kind)
                self.fired.append(kind)
                self.on_kill(replica, f"{kind} {written_name(kind, request.path, body)}")
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=503)  # never reaches the killed replica
            if fail:  # applied, and answered as failed
                await upstream.read()
                return self._status(window.code, "chaos: applied, then answered as failed by the fault proxy")
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                                          headers={k: v for k, v in upstream.headers.items() if k.lower() not in HOP})
            transport = request.transport
            await response.prepare(request)
            if watch and transport is not None:
                self._watches.add(transport)
            try:
                async for chunk in upstream.content.iter_any():
                    await self._gate(replica)
                    await response.write(chunk)
                await response.write_eof()
            except (ClientError, ConnectionError, asyncio.TimeoutError):
                if transport is not None:
                    transport.abort()
            finally:
                self._watches.discard(transport)
            return response
        finally:
            upstream.release()

    @staticmethod
    def _status(code: int, message: str) -> web.Response:
        headers = {"Retry-After": "1"} if code == 429 else {}
        return web.Response(status=code, body=status_body(code, message), content_type="application/json",
                            headers=headers)
