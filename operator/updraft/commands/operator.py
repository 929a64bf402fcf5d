"""`updraft operator run`: the Kubernetes operator (what the chart's Deployment runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

HELP = """\
Run the Updraft operator: it validates Workflows into immutable WorkflowVersions, creates each
workflow's ServiceAccount and NetworkPolicy, fires scheduled runs, and runs every WorkflowRun as
one pod per task attempt.

Settings come from UPDRAFT_* environment variables (the Helm chart sets them), for example
UPDRAFT_RUNNER_IMAGE, UPDRAFT_REGION, UPDRAFT_RUNNER_ENV (JSON), UPDRAFT_MAX_CONCURRENT_RUNS,
UPDRAFT_POD_CLEANUP_DELAY_SECONDS, UPDRAFT_LEADER_ELECTION (with replicas > 1: only the holder of
the Lease UPDRAFT_LEADER_ELECTION_ID reconciles; losing it exits the process). Kubernetes access:
--kubeconfig, else in-cluster, else the default kubeconfig."""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("operator", help="run the Kubernetes operator", description="The Updraft operator.")
    inner = p.add_subparsers(dest="operator_command", metavar="SUBCOMMAND")
    r = inner.add_parser("run", help="run the operator until interrupted", description=HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube/config)")
    r.add_argument("--namespace", help="watch only this namespace (default: every namespace)")
    r.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    r.set_defaults(run=run)
    p.set_defaults(run=lambda args: _usage(p))


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from updraft.config import ConfigError, from_env

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # kopf reports every handled watch event at INFO; keep the log to what matters
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    try:
        settings = from_env()
    except ConfigError as e:
        print(f"updraft operator: {e}", file=sys.stderr)
        return 2
    if args.namespace:
        settings = replace(settings, namespace=args.namespace)
    if args.kubeconfig:
        # kopf and the Kubernetes client read KUBECONFIG when first imported: set it before
        import os

        os.environ["KUBECONFIG"] = os.path.abspath(args.kubeconfig)
    from updraft import tls
    from updraft.handlers.app import LostLeadership, run_operator

    try:  # the task API's certificate, key and CA, checked before anything starts
        if settings.task_api_tls_cert:
            tls.server_context(settings.task_api_tls_cert, settings.task_api_tls_key)
        if settings.task_api_ca_file:
            tls.client_context(settings.task_api_ca_file)
    except tls.TlsError as e:
        print(f"updraft operator: the task API's TLS files: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_operator(settings, args.kubeconfig))
    except LostLeadership as e:
        print(f"updraft operator: {e}", file=sys.stderr)
        return 1
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    """No subcommand given: the help, and the exit code of a usage error."""
    parser.print_help(sys.stderr)
    return 2
