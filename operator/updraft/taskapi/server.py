"""The task API (aiohttp): task pods push and pull XCom here, authenticated by their pod's token.
It runs inside the operator process and is the only endpoint task pods may reach (their
NetworkPolicy says so); they hold no Kubernetes credentials. It speaks HTTPS (TLS 1.2+) with the
chart's or cert-manager's certificate, which task pods verify against the CA the operator mounts
into them (podspec/trust.py).

    GET  /v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}   -> {"value": ...} | 404
    POST /v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}   {"value": ...}   (own task only)
    POST /v1/namespaces/{ns}/runs/{run}/report   {"state": ...}   (the attempt's outcome, recorded on
         its own pod once: reports.py; {"ok": true, "recorded": <whether this call wrote it>})
    headers: Authorization: Bearer <token>, X-Updraft-Task, X-Updraft-Attempt

Every request is checked in this order, and answered {"error": <message>} when refused:
1. its client address has not failed authentication too often lately (else 429 with
   Retry-After, before anything else is done);
2. the token (tokens.py) is the HMAC of this run object's uid, task, attempt and pod (else 401;
   the failure counts against the address). Nothing of the body has been read so far;
3. a push must be for the caller's own task (403), to a run that is not finished and from the
   pod that is the task's current one (409: a finished run's XCom is final; a zombie pod of an
   earlier try may not overwrite what downstream tasks read); a report likewise, unless the same
   report is on the pod already (a retry: accepted);
4. the body: at most MAX_BODY bytes (413), JSON at most MAX_DEPTH levels deep, {"value": ...} (400);
5. the write keeps the per-run quota under concurrency (store.py; 413 when it would be exceeded).
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from updraft.guards.depth import deeper_than
from updraft.guards.throttle import RateLimiter
from updraft.k8s.resources import Kube, KubeError, NotFound
from updraft.model.states import RunState
from updraft.taskapi.reports import ReportRefused, canonical, record
from updraft.taskapi.store import XComBusy, XComNotOurs, XComQuotaExceeded, XComStore
from updraft.taskapi.tokens import Attempt, pod_of, verify

log = logging.getLogger("updraft.taskapi")
MAX_BODY = 256 * 1024
MAX_REPORT_BODY = 8 * 1024  # a report is at most 4 KB once stored (reports.py); room for whitespace
MAX_DEPTH = 64

_ATTEMPT = re.compile(r"0|[1-9][0-9]{0,8}")
UNAUTHORIZED = "missing or invalid task token"
# for the aiohttp runner: a refused request's body is not drained (the connection closes), and
# bodies are never inflated (pods send JSON as it is)
RUNNER_OPTIONS: Mapping[str, Any] = {"lingering_time": 0, "auto_decompress": False}


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _reschedule(pod: str) -> int:
    m = re.search(r"-r([0-9]+)$", pod)
    return int(m.group(1)) if m else 0


def superseded(run: Mapping[str, Any], who: Attempt) -> str | None:
    """The pod that replaced `who.pod` as its task's current pod, by the run's status (a later
    attempt, or a later reschedule of the same attempt), or None. A pod newer than the status
    (the operator records a pod just after making it) is never refused."""
    for t in (run.get("status") or {}).get("taskInstances") or []:
        if t.get("taskId") != who.task_id or not t.get("podName") or t["podName"] == who.pod:
            continue
        recorded = int(t.get("attemptNumber") or 0)
        if recorded > who.attempt or (recorded == who.attempt and _reschedule(t["podName"]) > _reschedule(who.pod)):
            return str(t["podName"])
    return None


def report_refusal(run: Mapping[str, Any], who: Attempt) -> str | None:
    """Why this attempt may not report now: its run finished, or its pod is no longer current."""
    state = (run.get("status") or {}).get("runState")
    if state in RunState.FINAL:
        return f"run {who.run!r} is finished ({state})"
    current = superseded(run, who)
    if current is not None:
        return f"pod {who.pod!r} is no longer the current pod of task {who.task_id!r} (that is {current!r})"
    return None


def build_app(kube: Kube, key: bytes, xcom_limit: int = 200 * 1024, *, failures_per_second: float = 1.0,
              failure_burst: int = 20, clock: Callable[[], float] = time.monotonic) -> web.Application:
    store = XComStore(kube, xcom_limit)
    failures = RateLimiter(failures_per_second, failure_burst)

    async def authenticate(request: web.Request) -> tuple[Attempt, dict[str, Any]] | web.Response:
        client = request.remote or "unknown"
        wait = failures.wait(client, clock())
        if wait > 0:
            return _error(429, "too many failed authentications from this address; slow down",
                          {"Retry-After": str(max(1, int(wait + 0.999)))})
        m = request.match_info
        auth = request.headers.get("Authorization", "")
        presented = auth[7:] if auth.startswith("Bearer ") else ""
        task = request.headers.get("X-Updraft-Task", "")
        raw_attempt = request.headers.get("X-Updraft-Attempt", "")
        pod = pod_of(presented)
        run: dict[str, Any] | None = None
        if task and pod and _ATTEMPT.fullmatch(raw_attempt):
            try:
                run = await kube.get("WorkflowRun", m["run"], m["ns"])
            except NotFound:
                run = None
        if run is not None:
            who = Attempt(m["ns"], m["run"], task, int(raw_attempt), run["metadata"]["uid"], pod or "")
            if verify(key, who, presented):
                return who, run
        failures.take(client, clock())
        return _error(401, UNAUTHORIZED)

    async def read_json(request: web.Request, limit: int, shape: str = "a JSON object") -> Any:
        """The body's JSON object, or a web.Response refusing the body."""
        if request.content_length is not None and request.content_length > limit:
            return _error(413, f"the body is larger than {limit} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"the body is larger than {limit} bytes")
        if len(raw) > limit:
            return _error(413, f"the body is larger than {limit} bytes")
        bad = _error(400, f"the body must be {shape} in UTF-8")
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return bad
        except RecursionError:
            return _error(400, f"the body nests more than {MAX_DEPTH} levels deep")
        if deeper_than(body, MAX_DEPTH):
            return _error(400, f"the body nests more than {MAX_DEPTH} levels deep")
        return body if isinstance(body, dict) else bad

    async def read_value(request: web.Request) -> Any:
        """The pushed value, or a web.Response refusing the body."""
        shape = 'a JSON object {"value": ...}'
        body = await read_json(request, MAX_BODY, shape)
        if isinstance(body, web.Response):
            return body
        if "value" not in body:
            return _error(400, f"the body must be {shape} in UTF-8")
        return body

    async def get_xcom(request: web.Request) -> web.Response:
        auth = await authenticate(request)
        if isinstance(auth, web.Response):
            return auth
        m = request.match_info
        found, value = await store.get(m["ns"], m["run"], m["task"], m["key"])
        if not found:
            return _error(404, f"no XCom {m['key']!r} from task {m['task']!r}")
        return web.json_response({"value": value})

    async def put_xcom(request: web.Request) -> web.Response:
        auth = await authenticate(request)
        if isinstance(auth, web.Response):
            return auth
        who, run = auth
        m = request.match_info
        if who.task_id != m["task"]:
            return _error(403, f"task {who.task_id!r} may only push its own XCom")
        state = (run.get("status") or {}).get("runState")
        if state in RunState.FINAL:
            return _error(409, f"run {m['run']!r} is finished ({state}); its XCom can no longer change")
        current = superseded(run, who)
        if current is not None:
            return _error(409, f"pod {who.pod!r} is no longer the current pod of task {who.task_id!r} "
                               f"(that is {current!r})")
        body = await read_value(request)
        if isinstance(body, web.Response):
            return body
        try:
            await store.put(m["ns"], m["run"], who.run_uid, m["task"], m["key"], body["value"])
        except XComQuotaExceeded as e:
            return _error(413, str(e))
        except (XComBusy, XComNotOurs) as e:
            return _error(409, str(e))
        return web.json_response({"ok": True})

    async def post_report(request: web.Request) -> web.Response:
        auth = await authenticate(request)
        if isinstance(auth, web.Response):
            return auth
        who, run = auth
        body = await read_json(request, MAX_REPORT_BODY, 'a JSON object {"state": ...}')
        if isinstance(body, web.Response):
            return body
        try:
            written = await record(kube, who, canonical(body), report_refusal(run, who))
        except ReportRefused as e:
            return _error(e.status, str(e))
        return web.json_response({"ok": True, "recorded": written})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    @web.middleware
    async def no_tracebacks(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as e:  # no route (404), a method it does not take (405): JSON too
            if e.status < 400:
                raise
            return _error(e.status, e.reason, {"Allow": e.headers["Allow"]} if "Allow" in e.headers else None)
        except KubeError as e:
            log.warning("task API: the cluster refused %s %s: %s", request.method, request.path, e)
            return _error(503, "the cluster did not answer; try again")
        except Exception:
            log.exception("task API: %s %s failed", request.method, request.path)
            return _error(500, "internal error")

    app = web.Application(client_max_size=MAX_BODY, middlewares=[no_tracebacks])
    prefix = "/v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}"
    app.router.add_get(prefix, get_xcom)
    app.router.add_post(prefix, put_xcom)
    app.router.add_post("/v1/namespaces/{ns}/runs/{run}/report", post_report)
    app.router.add_get("/healthz", health)
    return app


async def start(kube: Kube, key: bytes, port: int, host: str = "0.0.0.0",
                ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    """Serve the task API; HTTPS (TLS 1.2+, see updraft.tls) when `ssl_context` is given, which
    the operator does unless plain HTTP was chosen explicitly (Settings.task_api_plain_http)."""
    runner = web.AppRunner(build_app(kube, key), access_log=None, **RUNNER_OPTIONS)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    log.info("task API listening on %s:%d (%s)", host, port, "HTTPS" if ssl_context else "plain HTTP")
    return runner
