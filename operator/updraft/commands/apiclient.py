"""The thin I/O shell shared by `updraft workflow ...` and `updraft run ...`: the connection
options, a boto3 `mwaa-serverless` client built from them, calls whose failures become one line
and an exit code, and the workflow name -> ARN lookup. What is printed is built in
`updraft.remote` (pure)."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from updraft.remote.exits import CREDENTIALS_HINT, INTERRUPTED, USAGE, CliError, describe
from updraft.remote.options import WorkflowRef, check_endpoint, match_workflow

ENDPOINT_ENV = "UPDRAFT_ENDPOINT_URL"
SERVICE = "mwaa-serverless"
PAGE_SIZE = 100


def add_connection_options(p: argparse.ArgumentParser, outputs: tuple[str, ...] = ("table", "json")) -> None:
    g = p.add_argument_group("connection")
    g.add_argument("--endpoint-url", metavar="URL", help=f"the Updraft API (default: ${ENDPOINT_ENV})")
    g.add_argument("--region", help="the API's region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    g.add_argument("--profile", help="AWS profile for the credentials (default: AWS_PROFILE, then the usual chain)")
    g.add_argument("--ca-bundle", metavar="FILE",
                   help="CA certificates that verify the API's HTTPS certificate (default: AWS_CA_BUNDLE, "
                        "then the system's)")
    g.add_argument("--no-sign-request", action="store_true",
                   help="send unsigned requests (an API served with --insecure-no-auth)")
    p.add_argument("-o", "--output", choices=outputs, default="table",
                   help=f"output format: {', '.join(outputs)} (default: table)")


@dataclass
class Connection:
    client: Any
    endpoint: str

    def call(self, operation: str, what: str = "", **params: Any) -> dict[str, Any]:
        """One API call; any failure becomes a CliError naming it (`what`: for not-found)."""
        try:
            answer = getattr(self.client, operation)(**{k: v for k, v in params.items() if v is not None})
        except Exception as e:  # botocore's errors, described by class name (never a traceback)
            if isinstance(e, CliError):
                raise
            raise describe(e, self.endpoint, what) from None
        return dict(answer)

    def pages(self, operation: str, key: str, what: str = "", limit: int | None = None,
              **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated List* call (at most `limit`), in the API's order."""
        items: list[dict[str, Any]] = []
        token = None
        while True:
            size = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit - len(items)))
            answer = self.call(operation, what, MaxResults=size, NextToken=token, **params)
            items += answer.get(key) or []
            token = answer.get("NextToken")
            if not token or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items

    def workflow(self, ref: WorkflowRef) -> dict[str, Any]:
        """{"WorkflowArn", "Name"} of the workflow the user named (a name needs ListWorkflows)."""
        if ref.arn:
            from updraft.arns import parse_workflow_arn

            parsed = parse_workflow_arn(ref.arn)
            return {"WorkflowArn": ref.arn, "Name": parsed.name if parsed else ref.arn}
        return match_workflow(ref, self.pages("list_workflows", "Workflows"))


def connect(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Connection:
    if args.endpoint_url is not None:
        endpoint = check_endpoint(args.endpoint_url, "--endpoint-url")
    else:
        endpoint = check_endpoint(env.get(ENDPOINT_ENV), ENDPOINT_ENV)
    import boto3
    import botocore
    from botocore.config import Config

    from updraft import __version__

    try:
        # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION (what the other SDKs and the
        # AWS CLI v2 read) is honoured here too, before them
        region = args.region or env.get("AWS_REGION") or None
        session = boto3.session.Session(profile_name=args.profile, region_name=region)
    except Exception as e:
        raise describe(e, endpoint) from None
    if not session.region_name:
        raise CliError("no region configured: give --region or set AWS_REGION (the API's region)", USAGE)
    # adaptive: on ThrottlingException the client also slows itself down (a `run get` of a big run
    # makes one call per started task), instead of only retrying
    config = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30,
                    user_agent_extra=f"updraft-cli/{__version__}",
                    **({"signature_version": botocore.UNSIGNED} if args.no_sign_request else {}))
    if not args.no_sign_request:
        try:
            credentials = session.get_credentials()
        except Exception as e:
            raise describe(e, endpoint) from None
        if credentials is None:
            raise CliError(f"no AWS credentials found: {CREDENTIALS_HINT}", USAGE)
    try:
        # verify: --ca-bundle; None lets botocore read AWS_CA_BUNDLE (or the profile's ca_bundle)
        ca_bundle = getattr(args, "ca_bundle", None)
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise CliError(f"--ca-bundle {ca_bundle!r}: no such file", USAGE)
        client = session.client(SERVICE, endpoint_url=endpoint, config=config, verify=ca_bundle or None)
    except ValueError as e:  # botocore's "Invalid endpoint"
        raise CliError(f"--endpoint-url {endpoint!r}: {e}", USAGE) from None
    except Exception as e:
        raise describe(e, endpoint) from None
    return Connection(client, endpoint)


def now() -> datetime:
    return datetime.now(timezone.utc)


def guarded(prog: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Run a command so that every failure is one line `PROG: message` on stderr and its exit code."""

    def wrap(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(fn)
        def run(args: argparse.Namespace) -> int:
            try:
                return fn(args)
            except CliError as e:
                print(f"{prog}: {e.message}", file=sys.stderr)
                return e.code
            except KeyboardInterrupt:
                print(f"{prog}: interrupted", file=sys.stderr)
                return INTERRUPTED
            except BrokenPipeError:
                raise
            except Exception as e:  # a bug or an unforeseen library error: still one line
                print(f"{prog}: {describe(e).message}", file=sys.stderr)
                return describe(e).code

        return run

    return wrap


def help_parent(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return USAGE

    return show
