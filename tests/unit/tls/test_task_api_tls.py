"""Both hops speak TLS 1.2+ (issue 21). The task API served as the operator serves it
(taskapi.server.start with updraft.tls) and the runner's own XCom client (runner/xcom.py), over
real sockets on 127.0.0.1: a client holding the mounted CA pushes and pulls; one holding another
CA, or offering only TLS 1.1, or speaking plain HTTP, gets nothing. A renewed certificate is
served without a restart. The Kube behind the task API is the in-memory stand-in
(tests/unit/fakekube.py): the cluster is not what is tested here."""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pytest

from certs import make_ca, write_ca, write_server_cert
from fakekube import FakeKube
from updraft import tls
from updraft.model.names import pod_name
from updraft.runner.xcom import TaskApiClient, XComError
from updraft.taskapi import server
from updraft.taskapi.tokens import Attempt, token

KEY = b"k" * 32
NS, RUN = "ns", "run-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(run: dict[str, Any], url: str, ca_file: str | None, task: str = "load") -> TaskApiClient:
    pod = pod_name(RUN, task, 1)
    t = token(KEY, Attempt(NS, RUN, task, 1, run["metadata"]["uid"], pod))
    return TaskApiClient(url, NS, RUN, task, 1, t, timeout=5, delays=(), ca_file=ca_file)


def _run(kube: FakeKube) -> dict[str, Any]:
    return kube.put({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": RUN},
                     "spec": {"workflowName": "wf"}, "status": {"runState": "RUNNING", "taskInstances": []}}, NS)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = make_ca()
    crt, key = write_server_cert(ca, tmp_path / "server")
    other = make_ca("someone-else")
    return {"crt": crt, "key": key, "ca": write_ca(ca, tmp_path / "ca.crt"),
            "other_ca": write_ca(other, tmp_path / "other.crt"), "dir": tmp_path, "ca_obj": ca}  # type: ignore[dict-item]


async def _serve(kube: FakeKube, pki: dict[str, Any]) -> tuple[Any, tls.CertificateReloader, int]:
    ctx, reloader = tls.serving(str(pki["crt"]), str(pki["key"]))
    port = _free_port()
    runner = await server.start(kube, KEY, port, host="127.0.0.1", ssl_context=ctx)  # type: ignore[arg-type]
    return runner, reloader, port


async def test_the_runner_pushes_and_pulls_over_verified_https(pki):
    kube = FakeKube()
    run = _run(kube)
    runner, _, port = await _serve(kube, pki)
    try:
        client = _client(run, f"https://localhost:{port}", str(pki["ca"]))
        await asyncio.to_thread(client.push, "rows", [1, 2, 3])
        assert await asyncio.to_thread(_client(run, f"https://localhost:{port}", str(pki["ca"]), "next").pull,
                                       "load", "rows") == [1, 2, 3]
    finally:
        await runner.cleanup()


async def test_a_server_the_mounted_ca_did_not_sign_is_refused_at_once(pki):
    kube = FakeKube()
    run = _run(kube)
    runner, _, port = await _serve(kube, pki)
    try:
        client = _client(run, f"https://localhost:{port}", str(pki["other_ca"]))
        with pytest.raises(XComError, match="certificate not trusted") as e:
            await asyncio.to_thread(client.push, "rows", 1)
        assert not e.value.transient  # never retried: that is not the operator
        # the name is checked too: the certificate is for localhost, not for this address
        wrong_name = _client(run, f"https://127.0.0.2:{port}", str(pki["ca"]))
        with pytest.raises(XComError):
            await asyncio.to_thread(wrong_name.push, "rows", 1)
    finally:
        await runner.cleanup()


async def test_tls_1_1_and_plain_http_get_nothing(pki):
    kube = FakeKube()
    _run(kube)
    runner, _, port = await _serve(kube, pki)
    try:
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(str(pki["ca"]))
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that this client does offer TLS 1.1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1

        def handshake(ctx: ssl.SSLContext) -> str | None:
            with socket.create_connection(("localhost", port), timeout=5) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.version()

        with pytest.raises(ssl.SSLError):
            await asyncio.to_thread(handshake, old)
        old.maximum_version = ssl.TLSVersion.TLSv1_2  # the same client, allowed 1.2: served
        assert await asyncio.to_thread(handshake, old) == "TLSv1.2"
        with pytest.raises(OSError):  # plain HTTP to the TLS port: no answer
            await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=5))
    finally:
        await runner.cleanup()


async def test_a_renewed_certificate_is_served_without_a_restart(pki, tmp_path):
    kube = FakeKube()
    _run(kube)
    runner, reloader, port = await _serve(kube, pki)
    try:
        def serial() -> int:
            ctx = tls.client_context(str(pki["ca"]))
            with socket.create_connection(("localhost", port), timeout=5) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as s:
                der = s.getpeercert(binary_form=True)
            from cryptography import x509
            return x509.load_der_x509_certificate(der).serial_number

        before = await asyncio.to_thread(serial)
        assert not reloader.check()  # nothing changed yet
        crt, key = write_server_cert(pki["ca_obj"], tmp_path / "renewed")
        pki["crt"].write_bytes(crt.read_bytes())
        pki["key"].write_bytes(key.read_bytes())
        assert reloader.check()
        assert await asyncio.to_thread(serial) != before
    finally:
        await runner.cleanup()


def test_unusable_files_are_named(tmp_path):
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(tls.TlsError, match="junk.pem"):
        tls.server_context(str(tmp_path / "junk.pem"), str(tmp_path / "junk.pem"))
    with pytest.raises(tls.TlsError, match="nope.crt: no such file"):
        tls.client_context(str(tmp_path / "nope.crt"))
