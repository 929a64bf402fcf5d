"""`updraft api serve`: the MWAA Serverless-compatible API (what the chart's API Deployment runs)."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import secrets
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from updraft import tls

HELP = """\
Serve the MWAA Serverless API (AWS JSON 1.0, X-Amz-Target: AmazonMWAAServerless.<Operation>)
over the Workflow, WorkflowVersion and WorkflowRun resources of one namespace, so that

  boto3.client("mwaa-serverless", endpoint_url="https://HOST:PORT", region_name=REGION,
               verify="ca.crt")   # or AWS_CA_BUNDLE=ca.crt
  aws mwaa-serverless --endpoint-url https://HOST:PORT --ca-bundle ca.crt --region REGION list-workflows

work unchanged. It serves HTTPS (TLS 1.2+) with --tls-cert/--tls-key, read again when the files
change (a cert-manager renewal needs no restart); plain HTTP only with --plain-http. Requests must be signed (SigV4) with an access key from --credentials, a JSON
file: {"<access key id>": {"secretAccessKey": "...", "principal": "arn:aws:iam::<account>:user/<name>",
"policies": [<IAM policy documents>]}} (or "fullAccess": true instead of "policies": every action
allowed; an entry with neither is refused). Every call is
written to standard output as one CloudTrail-shaped JSON event; Prometheus metrics are served on
--metrics-port. S3 definitions are read with the default AWS credential chain (AWS_ENDPOINT_URL
is honoured).

The console (web pages for people) is served under /ui on the same port: sign in with a launch
URL from CreateAirflowUiUrl (`updraft ui`); with --insecure-no-auth it is open to anyone who can
reach the port, like the API."""

_REGION = re.compile(r"[a-z]{2}-(?:[a-z]+-)+[0-9]")
_ACCOUNT = re.compile(r"[0-9]{12}")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("api", help="serve the MWAA Serverless-compatible API", description="The Updraft API.")
    inner = p.add_subparsers(dest="api_command", metavar="SUBCOMMAND")
    s = inner.add_parser("serve", help="serve the API until interrupted", description=HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--port", type=int, default=8443, help="port to listen on (default: 8443)")
    s.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    s.add_argument("--region", required=True, help="the region in ARNs and in the SigV4 scope, e.g. us-east-1")
    s.add_argument("--account-id", required=True, help="the 12-digit account id in ARNs")
    s.add_argument("--credentials", metavar="FILE", help="access keys, principals and policies (JSON)")
    s.add_argument("--insecure-no-auth", action="store_true",
                   help="accept unsigned requests from anyone (local experiments only)")
    s.add_argument("--namespace", default="default", help="namespace of the workflows (default: default)")
    s.add_argument("--rate-limit", type=float, default=20.0, metavar="N",
                   help="requests per second per principal before ThrottlingException (default: 20)")
    s.add_argument("--burst", type=int, default=40, help="requests a caller may send at once (default: 40)")
    s.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port; 0 disables (default: 9090)")
    s.add_argument("--pagination-key-file", metavar="FILE",
                   help="secret that signs NextTokens; give every replica the same one (default: derived from "
                        "the credentials file, or random with --insecure-no-auth)")
    s.add_argument("--trust-proxy-headers", action="store_true",
                   help="behind a proxy or load balancer that sets them: take the caller's address from "
                        "X-Forwarded-For (audit, throttling) and TLS from X-Forwarded-Proto (aws:SecureTransport)")
    s.add_argument("--console-url", metavar="URL",
                   help="the console's public base URL in launch URLs (CreateAirflowUiUrl), e.g. https://updraft.example.com "
                        "(default: the scheme and Host of the CreateAirflowUiUrl request)")
    s.add_argument("--no-console", action="store_true", help="serve no console under /ui (CreateAirflowUiUrl is then refused)")
    s.add_argument("--tls-cert", metavar="FILE",
                   help="serve HTTPS (TLS 1.2+) with this PEM certificate chain; read again when the file changes")
    s.add_argument("--tls-key", metavar="FILE", help="the certificate's PEM private key")
    s.add_argument("--plain-http", action="store_true",
                   help="serve plain HTTP instead (local experiments, or behind a proxy that terminates TLS)")
    s.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube/config)")
    s.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    s.set_defaults(run=run)
    p.set_defaults(run=lambda args: _usage(p))


def _fail(message: str) -> int:
    print(f"updraft api serve: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    if not _REGION.fullmatch(args.region):
        return _fail(f"--region {args.region!r} is not a region name like us-east-1")
    if not _ACCOUNT.fullmatch(args.account_id):
        return _fail(f"--account-id {args.account_id!r} must be 12 digits")
    if not 0 < args.port < 65536 or not 0 <= args.metrics_port < 65536:
        return _fail("--port and --metrics-port must be TCP ports")
    if args.console_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", args.console_url):
        return _fail(f"--console-url {args.console_url!r} must be an http(s) URL without a query or fragment")
    if args.rate_limit <= 0 or args.burst < 1:
        return _fail("--rate-limit must be above 0 and --burst at least 1")
    if not args.credentials and not args.insecure_no_auth:
        return _fail("--credentials FILE is required (or --insecure-no-auth to accept unsigned requests)")
    if args.credentials and args.insecure_no_auth:
        return _fail("give either --credentials or --insecure-no-auth, not both")

    if bool(args.tls_cert) != bool(args.tls_key):
        return _fail("--tls-cert and --tls-key go together")
    if args.tls_cert and args.plain_http:
        return _fail("give either --tls-cert/--tls-key or --plain-http, not both")
    if not args.tls_cert and not args.plain_http:
        return _fail("--tls-cert FILE --tls-key FILE are required (or --plain-http to serve without TLS)")
    ssl_context = None
    if args.tls_cert:
        from updraft import tls

        try:
            ssl_context = tls.serving(args.tls_cert, args.tls_key)
        except tls.TlsError as e:
            return _fail(str(e))

    from updraft.api.credentials import CredentialsError, load_credentials

    credentials = None
    key_material = secrets.token_bytes(32)
    if args.credentials:
        try:
            from updraft.api.model import operation_names

            credentials = load_credentials(args.credentials, actions=operation_names())
        except (CredentialsError, OSError) as e:
            return _fail(str(e))
        with open(args.credentials, "rb") as f:
            key_material = hashlib.sha256(b"updraft-api-pagination\0" + f.read()).digest()
    if args.pagination_key_file:
        try:
            with open(args.pagination_key_file, "rb") as f:
                key_material = hashlib.sha256(f.read()).digest()
        except OSError as e:
            return _fail(f"--pagination-key-file: {e}")

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import asyncio

    asyncio.run(_serve(args, credentials, key_material, ssl_context))
    return 0


async def _serve(args: argparse.Namespace, credentials: object, key_material: bytes,
                 ssl_context: "tuple[ssl.SSLContext, tls.CertificateReloader] | None") -> None:
    import asyncio
    from datetime import datetime, timezone

    import boto3
    from aiohttp import web

    from updraft import cloudlogs, metrics
    from updraft.api.audit import AuditLog
    from updraft.api.logs import TaskLogs
    from updraft.api.pagination import PageTokens
    from updraft.api.server import RUNNER_OPTIONS, ApiServer, ServerConfig
    from updraft.api.service import Service, ServiceConfig
    from updraft.config import ConfigError, from_env
    from updraft.k8s.resources import Kube, connect

    try:
        settings = from_env()
    except ConfigError as e:
        print(f"updraft api serve: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    api_client = await connect(os.path.abspath(args.kubeconfig) if args.kubeconfig else None)
    kube = Kube(api_client)
    service = Service(kube, ServiceConfig(namespace=args.namespace, region=args.region, account_id=args.account_id,
                                          quotas=settings.quotas(), limits=settings.limits()),
                      PageTokens(key_material), s3_client_factory=lambda: boto3.client("s3"),
                      clock=lambda: datetime.now(timezone.utc))
    server = ApiServer(service, ServerConfig(region=args.region, account_id=args.account_id,
                                             credentials=credentials,  # type: ignore[arg-type]
                                             rate_per_second=args.rate_limit, burst=args.burst,
                                             trust_proxy_headers=args.trust_proxy_headers),
                       AuditLog(sys.stdout),
                       TaskLogs(service, settings.logs_backend, lambda: cloudlogs.client(args.region)))
    if args.metrics_port:
        metrics.serve(args.metrics_port)
    app = server.app()
    if not args.no_console:
        from updraft.console.routes import mount

        mount(app, server, args.console_url)
    runner = web.AppRunner(app, access_log=None, **RUNNER_OPTIONS)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, ssl_context=ssl_context[0] if ssl_context else None)
    await site.start()
    reloading = asyncio.create_task(ssl_context[1].watch()) if ssl_context else None
    logging.getLogger("updraft.api").info("serving the MWAA Serverless API on %s://%s:%d (namespace %s, %s)",
                                          "https" if ssl_context else "http", args.host, args.port, args.namespace,
                                          "SigV4 required" if credentials is not None else "NO AUTHENTICATION")
    # SIGTERM (a pod stopping; the process is PID 1, which has no default handler) and SIGINT end
    # the server cleanly: in-flight requests finish, new connections are refused.
    import signal

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        logging.getLogger("updraft.api").info("stopping")
    finally:
        if reloading is not None:
            reloading.cancel()
        await runner.cleanup()
        await api_client.close()


def _usage(parser: argparse.ArgumentParser) -> int:
    """No subcommand given: the help, and the exit code of a usage error."""
    parser.print_help(sys.stderr)
    return 2
