"""The task API (aiohttp): task pods push and pull XCom here, authenticated by their attempt's
token. It runs inside the operator process and is the only endpoint task pods may reach (their
NetworkPolicy says so); they hold no Kubernetes credentials.

    GET  /v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}   -> {"value": ...} | 404
    POST /v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}   {"value": ...}   (own task only)
    headers: Authorization: Bearer <token>, X-Updraft-Task, X-Updraft-Attempt
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from updraft.k8s.resources import Kube, NotFound
from updraft.taskapi.store import XComQuotaExceeded, XComStore
from updraft.taskapi.tokens import Attempt, verify

log = logging.getLogger("updraft.taskapi")
MAX_BODY = 256 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def build_app(kube: Kube, key: bytes, xcom_limit: int = 200 * 1024) -> web.Application:
    store = XComStore(kube, xcom_limit)

    def caller(request: web.Request) -> Attempt | None:
        auth = request.headers.get("Authorization", "")
        task = request.headers.get("X-Updraft-Task", "")
        try:
            attempt = int(request.headers.get("X-Updraft-Attempt", ""))
        except ValueError:
            return None
        who = Attempt(request.match_info["ns"], request.match_info["run"], task, attempt)
        presented = auth[7:] if auth.startswith("Bearer ") else ""
        return who if task and verify(key, who, presented) else None

    async def get_xcom(request: web.Request) -> web.Response:
        if caller(request) is None:
            return _error(401, "missing or invalid task token")
        m = request.match_info
        found, value = await store.get(m["ns"], m["run"], m["task"], m["key"])
        if not found:
            return _error(404, f"no XCom {m['key']!r} from task {m['task']!r}")
        return web.json_response({"value": value})

    async def put_xcom(request: web.Request) -> web.Response:
        who = caller(request)
        m = request.match_info
        if who is None:
            return _error(401, "missing or invalid task token")
        if who.task_id != m["task"]:
            return _error(403, f"task {who.task_id!r} may only push its own XCom")
        try:
            body: Any = json.loads(await request.text())
        except ValueError:
            return _error(400, "the body must be JSON: {\"value\": ...}")
        if not isinstance(body, dict) or "value" not in body:
            return _error(400, "the body must be JSON: {\"value\": ...}")
        try:
            run = await kube.get("WorkflowRun", m["run"], m["ns"])
        except NotFound:
            return _error(404, f"run {m['run']!r} not found")
        try:
            await store.put(m["ns"], m["run"], run["metadata"]["uid"], m["task"], m["key"], body["value"])
        except XComQuotaExceeded as e:
            return _error(413, str(e))
        return web.json_response({"ok": True})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY)
    prefix = "/v1/namespaces/{ns}/runs/{run}/xcom/{task}/{key}"
    app.router.add_get(prefix, get_xcom)
    app.router.add_post(prefix, put_xcom)
    app.router.add_get("/healthz", health)
    return app


async def start(kube: Kube, key: bytes, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    runner = web.AppRunner(build_app(kube, key), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("task API listening on %s:%d", host, port)
    return runner
