"""`updraft ui` against a real API process's server (ApiServer + console over the in-memory
Kubernetes stand-in, served on a port in a thread): the printed launch URL signs in once; option
errors are one line with exit 2 before anything is called; --help has examples and exit codes."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import test_console_http as world  # noqa: E402
from fakekube import FakeKube  # noqa: E402

from updraft.api.audit import AuditLog  # noqa: E402
from updraft.api.credentials import Principal  # noqa: E402
from updraft.api.pagination import PageTokens  # noqa: E402
from updraft.api.server import ApiServer, ServerConfig  # noqa: E402
from updraft.api.service import Service, ServiceConfig  # noqa: E402
from updraft.cli import main  # noqa: E402
from updraft.console.routes import mount  # noqa: E402


@pytest.fixture
def api_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        kube = FakeKube()
        await world._world(kube)
        service = Service(kube, ServiceConfig(namespace=world.NS, region=world.REGION,  # type: ignore[arg-type]
                                              account_id=world.ACCOUNT),
                          PageTokens(b"k" * 32), s3_client_factory=lambda: None, clock=world.Clock())
        key, secret = world.ADMIN
        server = ApiServer(service, ServerConfig(region=world.REGION, account_id=world.ACCOUNT, credentials={
            key: Principal(key, secret, f"arn:aws:iam::{world.ACCOUNT}:user/admin", world.FULL)}), AuditLog(io.StringIO()))
        app = server.app()
        mount(app, server)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{holder['port']}"
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "UPDRAFT_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.ADMIN[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.ADMIN[1])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def _redeem(url: str) -> int:
    base, token = url.split("#", 1)
    data = f"token={token}".encode()
    request = urllib.request.Request(base.replace("/ui/launch", "/ui/session"), data=data, method="POST")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        return int(urllib.request.build_opener(NoRedirect).open(request, timeout=10).status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_the_printed_launch_url_signs_in_once(api_url: str, admin_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--endpoint-url", api_url, "--region", "us-east-1", "--expires", "60"]) == 0
    # (other tests may have left a logging handler on stdout, whose lines may come before or
    # after the command's own: find the command's lines, and read its one JSON object)
    out = capsys.readouterr().out.splitlines()
    url = next(line for line in out if line.startswith(f"{api_url}/ui/launch#"))
    assert any("Open it within" in line for line in out[out.index(url):])
    assert _redeem(url) == 303
    assert _redeem(url) == 401  # used
    assert main(["ui", "--endpoint-url", api_url, "--region", "us-east-1", "-o", "json"]) == 0
    printed = capsys.readouterr().out
    start = 0 if printed.startswith("{") else printed.index("\n{") + 1
    answer, _ = json.JSONDecoder().raw_decode(printed[start:])
    assert set(answer) >= {"AuthorizedUrl", "SessionId", "UrlExpiresAt", "SessionExpiresAt"}


def test_bad_options_are_one_line_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "--session-duration", "0"]) == 2
    assert capsys.readouterr().err.strip() == "updraft ui: --session-duration must be from 1 to 43200 seconds, got 0"


def test_help_has_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ui", "--help"])
    out = capsys.readouterr().out
    assert "Examples:\n  updraft ui" in out and "Exit status:" in out and "--open" in out
