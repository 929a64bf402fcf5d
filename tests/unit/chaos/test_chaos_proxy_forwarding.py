"""The fault proxy against a real HTTPS server standing in for the API server: what it forwards,
and what each fault does to a call and to the write behind it."""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from certs import make_ca, write_ca, write_server_cert
from proxy import FaultProxy


class Upstream:
    """An HTTPS 'API server' that records every call it receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []  # method, path, Authorization

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls.append((request.method, request.path, request.headers.get("Authorization", "")))
        if request.query.get("watch") == "true":
            response = web.StreamResponse()
            await response.prepare(request)
            for i in range(600):
                await response.write(json.dumps({"type": "ADDED", "n": i}).encode() + b"\n")
                await asyncio.sleep(0.05)
            return response
        body = await request.read()
        return web.json_response({"kind": "Pod", "echo": json.loads(body) if body else None},
                                 status=201 if request.method == "POST" else 200)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Upstream, FaultProxy, str, list[tuple[int, str]]]]:
    ca = make_ca()
    crt, key = write_server_cert(ca, tmp_path / "server")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    upstream = Upstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", upstream.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = runner.addresses[0][1]
    kills: list[tuple[int, str]] = []
    proxy = FaultProxy(upstream=f"https://127.0.0.1:{port}", ca_file=str(write_ca(ca, tmp_path / "ca.crt")),
                       on_kill=lambda r, what: kills.append((r, what)), log=lambda _: None, rng=random.Random(1))
    (proxy_port,) = await proxy.start(1)
    yield upstream, proxy, f"http://127.0.0.1:{proxy_port}", kills
    await proxy.close()
    await runner.cleanup()


AUTH = {"Authorization": "Bearer the-operators-own-token"}
PODS = "/api/v1/namespaces/ns/pods"


async def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s:
        async with s.request(method, base + path, json=body, headers=AUTH) as r:
            return r.status, await r.json(content_type=None)


async def test_calls_pass_through_with_the_callers_own_credentials(setup: Any) -> None:
    upstream, _, base, _ = setup
    status, body = await call(base, "POST", PODS, {"metadata": {"name": "p-1"}})
    assert (status, body["echo"]) == (201, {"metadata": {"name": "p-1"}})
    assert upstream.calls == [("POST", PODS, AUTH["Authorization"])]


async def test_an_armed_kill_fires_after_the_write_is_applied_and_the_caller_never_hears_back(setup: Any) -> None:
    upstream, proxy, base, kills = setup
    proxy.arm_kill("pod-create")
    await call(base, "GET", PODS)  # not the armed write
    assert kills == []
    with pytest.raises(aiohttp.ClientError):
        await call(base, "POST", PODS, {"metadata": {"name": "p-2"}})
    assert ("POST", PODS, AUTH["Authorization"]) in upstream.calls  # applied
    assert kills == [(0, "pod-create p-2")] and proxy.armed == [] and proxy.fired == ["pod-create"]


async def test_errors_before_applying_never_reach_the_server_and_after_applying_do(setup: Any) -> None:
    upstream, proxy, base, _ = setup
    proxy.errors(429, 1.0, 60, after_applying=False)
    status, body = await call(base, "POST", PODS, {"metadata": {"name": "p-3"}})
    assert (status, body["reason"]) == (429, "TooManyRequests") and upstream.calls == []
    proxy.errors(500, 1.0, 60, after_applying=True)
    status, _ = await call(base, "POST", PODS, {"metadata": {"name": "p-4"}})
    assert status == 500 and [c[0] for c in upstream.calls] == ["POST"]


async def test_a_cut_ends_an_open_watch(setup: Any) -> None:
    _, proxy, base, _ = setup
    async with aiohttp.ClientSession() as s:
        async with s.get(base + PODS, params={"watch": "true"}, headers=AUTH) as r:
            assert json.loads(await r.content.readline())["type"] == "ADDED"
            proxy.cut_watches()
            with pytest.raises(aiohttp.ClientError):
                for _ in range(600):
                    if not await r.content.readline():
                        raise aiohttp.ClientPayloadError("the stream ended")


async def test_a_frozen_replicas_call_is_held_until_the_freeze_ends(setup: Any) -> None:
    upstream, proxy, base, _ = setup
    proxy.freeze(0, 2.0)
    pending = asyncio.ensure_future(call(base, "GET", PODS))
    await asyncio.sleep(0.3)
    assert upstream.calls == [] and not pending.done()
    assert (await pending)[0] == 200 and len(upstream.calls) == 1
