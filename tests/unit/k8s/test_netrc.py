"""The Kubernetes client does not look for a ~/.netrc before every request (aiohttp does, in a
thread, when its session trusts the environment), unless a proxy is set in the environment."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio import client

from updraft.k8s.resources import without_netrc


def _lookups(environ: dict[str, str]) -> int:
    async def go() -> int:
        api = without_netrc(client.ApiClient(client.Configuration()), environ)
        session = api.rest_client.pool_manager
        looked = 0

        def lookup(host: str) -> None:
            nonlocal looked
            looked += 1

        session._get_netrc_auth = lookup  # what aiohttp runs in the executor per request
        try:
            await session.get("http://127.0.0.1:9/", timeout=0.5)  # nothing listens: refused after the lookup
        except Exception:  # noqa: BLE001 - only whether the lookup happened matters
            pass
        await api.close()
        return looked

    return asyncio.run(go())


def test_no_netrc_lookup_per_request_without_a_proxy():
    assert _lookups({}) == 0


def test_a_proxy_in_the_environment_keeps_the_session_trusting_it():
    assert _lookups({"HTTPS_PROXY": "http://proxy.example:3128"}) == 1
