"""`updraft logs RUN [TASK] [--attempt N] [-f]`: a task attempt's log through the API's logs
endpoint (GET /updraft/v1/logs, signed like every call): its pod's log while it runs, its
CloudWatch Logs stream afterwards, and which one on stderr."""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from updraft.commands.apiclient import Connection, add_connection_options, connect, guarded
from updraft.remote import logs as plan
from updraft.remote.exits import API_ERROR, CONNECTION_HELP, NOT_FOUND, UNREACHABLE, USAGE, CliError
from updraft.remote.options import parse_run_id, parse_workflow

PATH = "/updraft/v1/logs"
POLL_S = 2.0
HELP = f"""\
Print the log of TASK in run RUN (every task of the run without TASK), the latest attempt unless
--attempt N. While an attempt runs its pod's log is read; once it is over, the CloudWatch Logs
stream GetTaskInstance names (LogStream). Which one, and why, is printed on stderr. On a cluster
without CloudWatch (the chart's logs.backend: none) logs exist only while the pods do.

  updraft logs daily_etl-m-1a2b3c4d5e6f load -f

{CONNECTION_HELP}"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("logs", help="a task's log (its pod while it runs, CloudWatch Logs after)", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_id", metavar="RUN", help="run id (as 'updraft run list' shows it)")
    p.add_argument("task", metavar="TASK", nargs="?", help="task id (default: every task of the run)")
    p.add_argument("--workflow", metavar="WORKFLOW", help="the run's workflow, name or ARN (default: found from RUN)")
    p.add_argument("--attempt", type=int, metavar="N", help="attempt N (default: the latest)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until the attempt ends")
    add_connection_options(p, outputs=("text",))
    p.set_defaults(run=guarded("updraft logs")(_logs))


def _workflow_arn(conn: Connection, args: argparse.Namespace, run_id: str) -> str:
    if args.workflow:
        return str(conn.workflow(parse_workflow(args.workflow))["WorkflowArn"])
    for w in plan.workflows_of_run(run_id, conn.pages("list_workflows", "Workflows")):
        try:
            conn.call("get_workflow_run", WorkflowArn=w["WorkflowArn"], RunId=run_id)
            return str(w["WorkflowArn"])
        except CliError as e:
            if e.code != NOT_FOUND:
                raise
    raise CliError(f"no workflow has a run {run_id!r}: check RUN, or name its workflow with --workflow", NOT_FOUND)


def _get(conn: Connection, args: argparse.Namespace, query: dict[str, Any]) -> dict[str, Any]:
    """One signed GET of the logs endpoint; its refusal as a CliError."""
    url = conn.endpoint.rstrip("/") + PATH + "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
    headers = {"Accept": "application/json"}
    if not args.no_sign_request:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=url)
        credentials = conn.client._request_signer._credentials  # the client's own resolved credentials
        SigV4Auth(credentials.get_frozen_credentials(), "airflow-serverless", conn.client.meta.region_name).add_auth(request)
        headers.update(dict(request.headers.items()))
    try:
        # the CA the API client trusts: --ca-bundle, else AWS_CA_BUNDLE (as botocore), else the system's
        ca = getattr(args, "ca_bundle", None) or os.environ.get("AWS_CA_BUNDLE") or None
        context = ssl.create_default_context(cafile=ca) if url.startswith("https:") else None
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60,  # noqa: S310
                                    context=context) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read())
        except ValueError:
            body = {}
        code = str(body.get("__type") or e.code).rsplit("#", 1)[-1]
        exit_code = NOT_FOUND if code == "ResourceNotFoundException" else API_ERROR
        raise CliError(f"{code}: {body.get('message') or e.reason}", exit_code, code) from None
    except (urllib.error.URLError, OSError) as e:
        raise CliError(f"could not reach {conn.endpoint}: {e}", UNREACHABLE) from None


def _logs(args: argparse.Namespace) -> int:
    run_id = parse_run_id(args.run_id)
    if args.attempt is not None and args.attempt < 1:
        raise CliError("--attempt must be 1 or more", USAGE)
    conn = connect(args)
    arn = _workflow_arn(conn, args, run_id)
    if args.task:
        tasks = [args.task]
    else:
        tasks = [str(t["TaskId"]) for t in conn.pages("list_task_instances", "TaskInstances", WorkflowArn=arn,
                                                       RunId=run_id) if t.get("TaskId")]
    many = len(tasks) > 1
    tokens: dict[str, str | None] = {t: None for t in tasks}
    said: dict[str, str] = {}
    while True:
        pending = False
        for task in tasks:
            answer = _get(conn, args, {"WorkflowArn": arn, "RunId": run_id, "NextToken": tokens[task],
                                       "TaskInstanceId": plan.task_instance_id(run_id, task),
                                       "Attempt": args.attempt})
            source = plan.source_line(task, answer)
            if said.get(task) != source:
                print(source, file=sys.stderr, flush=True)
                said[task] = source
            for line in plan.prefixed(task, answer.get("Lines") or [], many):
                print(line)
            sys.stdout.flush()
            tokens[task] = answer.get("NextToken")
            pending = pending or not answer.get("Final")
        if not args.follow or not pending:
            return 0
        time.sleep(POLL_S)
