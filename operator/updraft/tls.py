"""TLS for both HTTP surfaces (the API and the task API) and their clients: TLS 1.2 at least,
and certificates read again when their files change (cert-manager renews a Secret in place; the
kubelet updates the mounted files), so a renewal needs no restart.

    server_context(cert, key)   what `updraft api serve` and the operator's task API serve with
    client_context(ca_file)     what verifies them (the task pod's XCom client, tests)
    CertificateReloader         loads the pair again when either file's mtime or size changes
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass

log = logging.getLogger("updraft.tls")
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
RELOAD_EVERY_S = 60.0


class TlsError(ValueError):
    """A certificate, key or CA file that cannot be used; the message names the file."""


def _stamp(path: str) -> tuple[float, int]:
    st = os.stat(path)
    return st.st_mtime, st.st_size


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = MINIMUM_VERSION
    _load(ctx, cert_file, key_file)
    return ctx


def _load(ctx: ssl.SSLContext, cert_file: str, key_file: str) -> None:
    for path, what in ((cert_file, "TLS certificate"), (key_file, "TLS key")):
        if not os.path.isfile(path):
            raise TlsError(f"{path}: no such file ({what})")
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as e:
        raise TlsError(f"{cert_file} / {key_file}: not a usable certificate and key ({e})") from None


def client_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifies the server's certificate and name against `ca_file` (None: the system's CAs)."""
    if ca_file is not None and not os.path.isfile(ca_file):
        raise TlsError(f"{ca_file}: no such file (CA bundle)")
    try:
        ctx = ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as e:
        raise TlsError(f"{ca_file}: not a usable CA bundle ({e})") from None
    ctx.minimum_version = MINIMUM_VERSION
    return ctx


@dataclass
class CertificateReloader:
    """Keeps `context` serving the current files: `check()` reloads them when they changed
    (new handshakes get the new certificate; open connections keep theirs). A pair that fails to
    load (say, half-written) is logged and the old one kept until the next check."""

    context: ssl.SSLContext
    cert_file: str
    key_file: str

    def __post_init__(self) -> None:
        self._seen = self._stamps()

    def _stamps(self) -> tuple[tuple[float, int], tuple[float, int]] | None:
        try:
            return _stamp(self.cert_file), _stamp(self.key_file)
        except OSError:
            return None

    def check(self) -> bool:
        """True when the files changed and were loaded."""
        now = self._stamps()
        if now is None or now == self._seen:
            return False
        try:
            _load(self.context, self.cert_file, self.key_file)
        except TlsError as e:
            log.warning("TLS certificate changed but could not be loaded; keeping the old one: %s", e)
            return False
        self._seen = now
        log.info("TLS certificate %s reloaded", self.cert_file)
        return True

    async def watch(self, every_s: float = RELOAD_EVERY_S) -> None:
        import asyncio  # here: task pods import this module for client_context, and start fast

        while True:
            await asyncio.sleep(every_s)
            self.check()


def serving(cert_file: str, key_file: str) -> tuple[ssl.SSLContext, CertificateReloader]:
    """A server context and the reloader that keeps it current (start `reloader.watch()`)."""
    ctx = server_context(cert_file, key_file)
    return ctx, CertificateReloader(ctx, cert_file, key_file)
