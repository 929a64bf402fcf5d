"""`updraft run start|list|get|stop|wait`: workflow runs through the Updraft API."""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from updraft.commands.apiclient import Connection, add_connection_options, connect, guarded, help_parent, now
from updraft.remote import views
from updraft.remote.exits import (CONNECTION_HELP, EXIT_CODES_HELP, INTERRUPTED, OK, RUN_NOT_SUCCESSFUL, TIMED_OUT,
                                  USAGE, CliError)
from updraft.remote.follow import ERROR_STATES, Change, Snapshot, WaitTimedOut, follow, has_details, task_label
from updraft.remote.options import parse_duration, parse_parameters, parse_run_id, parse_workflow
from updraft.remote.render import json_line, plain, to_json

DEFAULT_INTERVAL = 2.0
MAX_OUTAGE_S = 120.0  # a wait rides out the API being unreachable (a restart, a rollout) this long
DETAIL_WORKERS = 4

START_HELP = f"""\
Start a run of WORKFLOW (StartWorkflowRun) and print its id. -p key=value passes a string
parameter, -p key:=JSON a typed one (number, true/false, list, object); they become the run's
OverrideParameters. --version runs an older workflow version. --client-token makes the
request idempotent: the same token with the same parameters returns the same run instead of
starting another (useful when a CI step is retried).

--wait waits for the run to end and exits 0 only if it ended SUCCESS (1 otherwise), then
prints the run and its tasks: for CI pipelines. --watch also prints every task state change
as it is seen (one line each; with -o json, one JSON object per line), and exits like --wait.
--timeout bounds the wait (exit 6; the run goes on). While waiting, up to 2 minutes of the API
being unreachable or throttling are ridden out. -o name prints only the run id.

Examples:
  updraft run start daily_etl
  updraft run start daily_etl -p day=2026-12-01 -p limit:=500 -p dry_run:=true --wait
  RUN=$(updraft run start daily_etl -o name) && updraft run wait daily_etl "$RUN" --timeout 30m
  updraft run start daily_etl --watch --client-token "ci-$CI_PIPELINE_ID"
  kubectl updraft run start daily_etl --wait --timeout 1h

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

LIST_HELP = f"""\
List the runs of WORKFLOW (ListWorkflowRuns), newest first: id, state, type (ON_DEMAND or
SCHEDULED), version, age and duration. --limit bounds how many (default 20; 0: all).

Examples:
  updraft run list daily_etl
  updraft run list daily_etl --limit 0 -o json | jq -r '.[] | select(.RunDetailSummary.Status=="FAILED") | .RunId'

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

GET_HELP = f"""\
Show run RUN of WORKFLOW (GetWorkflowRun) and its task instances (ListTaskInstances, then
GetTaskInstance for each task that started): state, attempt, start, duration, operator and the
first line of the error. -o json prints GetWorkflowRun's answer plus "TaskInstances": the
GetTaskInstance answers (ListTaskInstances' summaries for tasks that never started).

Examples:
  updraft run get daily_etl daily-etl-manual-7f3a9c2e1b
  updraft run get daily_etl daily-etl-manual-7f3a9c2e1b -o json | jq '.TaskInstances[] | {{TaskId, Status}}'

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

STOP_HELP = f"""\
Stop run RUN of WORKFLOW (StopWorkflowRun): its running tasks are stopped and no new ones start;
the run goes STOPPING, then STOPPED. Stopping a run that has already ended changes nothing and
succeeds (it prints the state it ended in), so the command can be repeated safely.

Examples:
  updraft run stop daily_etl daily-etl-manual-7f3a9c2e1b
  updraft run stop daily_etl daily-etl-manual-7f3a9c2e1b && updraft run wait daily_etl daily-etl-manual-7f3a9c2e1b

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

WAIT_HELP = f"""\
Wait until run RUN of WORKFLOW ends; exit 0 if it ended SUCCESS, 1 if it ended otherwise
(FAILED, TIMEOUT, STOPPED), 6 if --timeout passed first (the run goes on). Prints the final
state (-o json: GetWorkflowRun's answer), and the tasks when it did not succeed. Up to 2 minutes
of the API being unreachable or throttling are ridden out.

Examples:
  updraft run wait daily_etl daily-etl-manual-7f3a9c2e1b
  updraft run wait daily_etl daily-etl-manual-7f3a9c2e1b --timeout 45m || echo "not a success"

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""


def _add_wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", metavar="DURATION", help="stop waiting after this long (e.g. 90s, 30m, 2h); "
                                                          "default: no limit")
    p.add_argument("--poll-interval", metavar="SECONDS", type=float, default=DEFAULT_INTERVAL,
                   help=f"seconds between two looks at the run (default {DEFAULT_INTERVAL:g})")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("run", help="start, list, show, stop and wait for workflow runs (through the API)",
                       description="Workflow runs, through the Updraft API. See 'updraft run SUBCOMMAND --help'.")
    inner = p.add_subparsers(dest="run_command", metavar="SUBCOMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    start = inner.add_parser("start", help="start a run", description=START_HELP, formatter_class=raw)
    start.add_argument("workflow", metavar="WORKFLOW", help="workflow name or ARN")
    start.add_argument("-p", "--param", dest="params", action="append", default=[], metavar="KEY=VALUE",
                       help="a run parameter: key=value (string) or key:=JSON; repeatable")
    start.add_argument("--version", dest="workflow_version", metavar="V", help="the workflow version to run "
                                                                                "(default: the latest)")
    start.add_argument("--client-token", metavar="TOKEN", help="idempotency token (1-128 printable characters)")
    mode = start.add_mutually_exclusive_group()
    mode.add_argument("--wait", action="store_true", help="wait for the end; exit 0 only on SUCCESS")
    mode.add_argument("--watch", action="store_true", help="print task state changes until the end; exit as --wait")
    _add_wait_options(start)
    add_connection_options(start, ("table", "name", "json"))
    start.set_defaults(run=run_start)

    ls = inner.add_parser("list", help="list a workflow's runs", description=LIST_HELP, formatter_class=raw)
    ls.add_argument("workflow", metavar="WORKFLOW", help="workflow name or ARN")
    ls.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs, newest first (0: all; "
                                                                        "default 20)")
    ls.add_argument("--version", dest="workflow_version", metavar="V", help="only runs of this workflow version")
    add_connection_options(ls, ("table", "name", "json"))
    ls.set_defaults(run=run_list)

    for name, helptext, text, fn in (("get", "show a run and its task instances", GET_HELP, run_get),
                                     ("stop", "stop a run (idempotent)", STOP_HELP, run_stop),
                                     ("wait", "wait for a run to end; exit 0 only on SUCCESS", WAIT_HELP, run_wait)):
        q = inner.add_parser(name, help=helptext, description=text, formatter_class=raw)
        q.add_argument("workflow", metavar="WORKFLOW", help="workflow name or ARN")
        q.add_argument("run_id", metavar="RUN", help="run id (as 'updraft run list' shows it)")
        if name == "wait":
            _add_wait_options(q)
        add_connection_options(q)
        q.set_defaults(run=fn)
    p.set_defaults(run=help_parent(p))


def _run_what(run_id: str, workflow: dict[str, Any]) -> str:
    return f"run {run_id!r} of workflow {workflow.get('Name')!r}"


def _wait_settings(args: argparse.Namespace) -> tuple[float, float | None]:
    if not 0 < args.poll_interval <= 3600:
        raise CliError(f"--poll-interval must be above 0 and at most 3600 seconds, got {args.poll_interval:g}", USAGE)
    return args.poll_interval, parse_duration(args.timeout, "--timeout") if args.timeout else None


def _tasks(conn: Connection, arn: str, run_id: str, what: str) -> list[dict[str, Any]]:
    return conn.pages("list_task_instances", "TaskInstances", what, WorkflowArn=arn, RunId=run_id)


def _task_details(conn: Connection, arn: str, run_id: str, what: str) -> list[dict[str, Any]]:
    summaries = _tasks(conn, arn, run_id, what)

    def detail(summary: dict[str, Any]) -> dict[str, Any]:
        return conn.call("get_task_instance", f"task instance {summary['TaskInstanceId']!r} of {what}",
                         WorkflowArn=arn, RunId=run_id, TaskInstanceId=summary["TaskInstanceId"])

    with ThreadPoolExecutor(max_workers=DETAIL_WORKERS) as pool:
        return list(pool.map(lambda s: detail(s) if has_details(s) else s, summaries))


def _snapshot(conn: Connection, arn: str, run_id: str, what: str, ids: dict[str, str] | None) -> Snapshot:
    """The run's state; with `ids`, its tasks' states too (`ids` gets label -> TaskInstanceId)."""
    run = conn.call("get_workflow_run", what, WorkflowArn=arn, RunId=run_id)
    state = str((run.get("RunDetail") or {}).get("RunState") or "STARTING")
    if ids is None:
        return Snapshot(state)
    tasks = {}
    for t in _tasks(conn, arn, run_id, what):
        label = task_label(str(t.get("TaskInstanceId")), run_id)
        ids[label], tasks[label] = str(t.get("TaskInstanceId")), str(t.get("Status"))
    return Snapshot(state, tasks)


def _follow(conn: Connection, args: argparse.Namespace, workflow: dict[str, Any], run_id: str,
            watch: bool) -> int:
    """Wait (or watch) until the run ends; print the outcome; the exit code by the run's state."""
    interval, timeout = _wait_settings(args)
    arn, what = workflow["WorkflowArn"], _run_what(run_id, workflow)
    as_json = args.output == "json"
    out = sys.stderr if args.output == "name" else sys.stdout  # -o name: stdout has the run id only
    ids: dict[str, str] | None = {} if watch else None

    def report(found: list[Change], snap: Snapshot) -> None:
        at = now()
        for change in found:
            detail = None
            if ids and change.task in ids and change.new in ERROR_STATES:
                try:  # the error is a bonus: a failed look-up does not end the watch
                    detail = conn.call("get_task_instance", what, WorkflowArn=arn, RunId=run_id,
                                       TaskInstanceId=ids[change.task])
                except CliError:
                    detail = None
            line = (json_line(views.change_json(change, at, run_id, detail)) if as_json
                    else views.change_line(change, at, run_id, detail))
            print(line, file=out, flush=True)

    def outage_notice(e: Exception) -> None:
        print(f"updraft run {args.run_command}: {getattr(e, 'message', e)}; still waiting (for up to "
              f"{MAX_OUTAGE_S:.0f}s of failures)", file=sys.stderr)

    try:
        final = follow(lambda: _snapshot(conn, arn, run_id, what, ids), sleep=time.sleep, clock=time.monotonic,
                       interval=interval, timeout=timeout, on_change=report if watch else None,
                       transient=lambda e: isinstance(e, CliError) and e.transient, outage=MAX_OUTAGE_S,
                       on_outage=outage_notice)
    except WaitTimedOut as e:
        raise CliError(f"{what} is still {e.last.run_state} after {args.timeout} (--timeout); it goes on",
                       TIMED_OUT) from None
    except KeyboardInterrupt:
        print(f"stopped waiting; {what} goes on ('updraft run stop' stops it)", file=sys.stderr)
        return INTERRUPTED
    run = conn.call("get_workflow_run", what, WorkflowArn=arn, RunId=run_id)
    state = final.run_state
    if as_json:
        print(json_line({"Event": "RunEnded", **plain(run)}) if watch else to_json(run), flush=True)
    else:
        print(views.ended_text(run_id, state, views.run_seconds(run)), file=out)
        if state != "SUCCESS":
            print(views.run_text(run, _task_details(conn, arn, run_id, what), now(), workflow.get("Name")), file=out)
    return OK if state == "SUCCESS" else RUN_NOT_SUCCESSFUL


@guarded("updraft run start")
def run_start(args: argparse.Namespace) -> int:
    ref = parse_workflow(args.workflow)
    params = parse_parameters(args.params)
    if args.wait or args.watch:
        _wait_settings(args)  # bad wait options are refused before the run starts
    elif args.timeout:
        raise CliError("--timeout needs --wait or --watch", USAGE)
    conn = connect(args)
    workflow = conn.workflow(ref)
    answer = conn.call("start_workflow_run", ref.label, WorkflowArn=workflow["WorkflowArn"],
                       OverrideParameters=params or None, WorkflowVersion=args.workflow_version,
                       ClientToken=args.client_token)
    run_id = str(answer["RunId"])
    started = {**plain(answer), "WorkflowArn": workflow["WorkflowArn"]}
    if args.output == "name":
        print(run_id, flush=True)
    elif args.output == "json":
        if args.watch:  # JSON Lines: this, then one object per change, then the ended run
            print(json_line({"Event": "RunStarted", **started}), flush=True)
        elif not args.wait:  # with --wait, the one document printed is the ended run
            print(to_json(started))
    else:
        print(views.started_text(run_id, answer.get("Status"), str(workflow.get("Name"))), flush=True)
    if not (args.wait or args.watch):
        return OK
    return _follow(conn, args, workflow, run_id, watch=args.watch)


@guarded("updraft run list")
def run_list(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise CliError(f"--limit must be 0 (all) or more, got {args.limit}", USAGE)
    ref = parse_workflow(args.workflow)
    conn = connect(args)
    workflow = conn.workflow(ref)
    runs = conn.pages("list_workflow_runs", "WorkflowRuns", ref.label, limit=args.limit or None,
                      WorkflowArn=workflow["WorkflowArn"], WorkflowVersion=args.workflow_version)
    if args.output == "json":
        print(to_json(runs))
    elif args.output == "name":
        for r in runs:
            print(r.get("RunId"))
    elif runs:
        print(views.runs_table(runs, now()))
    else:
        print(f"No runs of workflow {workflow.get('Name')}.")
    return OK


@guarded("updraft run get")
def run_get(args: argparse.Namespace) -> int:
    ref, args.run_id = parse_workflow(args.workflow), parse_run_id(args.run_id)
    conn = connect(args)
    workflow = conn.workflow(ref)
    arn, what = workflow["WorkflowArn"], _run_what(args.run_id, workflow)
    run = conn.call("get_workflow_run", what, WorkflowArn=arn, RunId=args.run_id)
    tasks = _task_details(conn, arn, args.run_id, what)
    if args.output == "json":
        print(to_json({**plain(run), "TaskInstances": plain(tasks)}))
    else:
        print(views.run_text(run, tasks, now(), workflow.get("Name")))
    return OK


@guarded("updraft run stop")
def run_stop(args: argparse.Namespace) -> int:
    ref, args.run_id = parse_workflow(args.workflow), parse_run_id(args.run_id)
    conn = connect(args)
    workflow = conn.workflow(ref)
    answer = conn.call("stop_workflow_run", _run_what(args.run_id, workflow), WorkflowArn=workflow["WorkflowArn"],
                       RunId=args.run_id)
    if args.output == "json":
        print(to_json(answer))
    else:
        print(views.stopped_text(args.run_id, str(answer.get("Status"))))
    return OK


@guarded("updraft run wait")
def run_wait(args: argparse.Namespace) -> int:
    ref, args.run_id = parse_workflow(args.workflow), parse_run_id(args.run_id)
    _wait_settings(args)
    conn = connect(args)
    workflow = conn.workflow(ref)
    return _follow(conn, args, workflow, args.run_id, watch=False)
