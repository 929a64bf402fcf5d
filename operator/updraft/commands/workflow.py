"""`updraft workflow list|get`: the workflows an Updraft API shows you, with their next fire times."""

from __future__ import annotations

import argparse

from updraft.commands.apiclient import add_connection_options, connect, guarded, help_parent, now
from updraft.remote import views
from updraft.remote.exits import CONNECTION_HELP, EXIT_CODES_HELP, NOT_FOUND, USAGE, CliError
from updraft.remote.options import parse_workflow
from updraft.remote.render import plain, to_json

LIST_HELP = f"""\
List the workflows the API shows you (ListWorkflows, every page): name, trigger mode, status,
latest version and how long ago it changed. -o wide adds the ARN and description; -o name
prints the names only; -o json prints the API's workflow summaries.

Examples:
  updraft workflow list --endpoint-url http://localhost:8443 --region us-east-1
  export UPDRAFT_ENDPOINT_URL=http://localhost:8443 AWS_REGION=us-east-1
  updraft workflow list -o wide
  kubectl updraft workflow list -o json | jq -r '.[].WorkflowArn'

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

GET_HELP = f"""\
Show one workflow (GetWorkflow): status, trigger mode, version, role, definition source, and
its schedule with the next fire times (--count, default 5), computed with the operator's own
schedule code from the API's cron and the definition's time zone, start_date and end_date (the
API has no time-zone field: a zone set on the Workflow object with kubectl, spec.timezone, is
not visible through it).
WORKFLOW is a name (looked up with ListWorkflows) or an ARN. --definition prints the
definition (YAML) only. -o json prints GetWorkflow's answer plus "Schedule": {{CronExpression,
Timezone, NextFireTimes}}.

Examples:
  updraft workflow get daily_etl
  updraft workflow get daily_etl --count 10
  updraft workflow get arn:aws:airflow-serverless:us-east-1:123456789012:workflow/daily_etl-a1b2c3d4e5 -o json
  updraft workflow get daily_etl --definition > daily_etl.yaml

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""

MAX_COUNT = 100


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("workflow", help="list workflows and show one (through the API)",
                       description="Workflows, through the Updraft API. See 'updraft workflow list --help' and "
                                   "'updraft workflow get --help'.")
    inner = p.add_subparsers(dest="workflow_command", metavar="SUBCOMMAND")
    ls = inner.add_parser("list", help="list workflows", description=LIST_HELP,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_options(ls, ("table", "wide", "name", "json"))
    ls.set_defaults(run=run_list)
    get = inner.add_parser("get", help="show a workflow and its next fire times", description=GET_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    get.add_argument("workflow", metavar="WORKFLOW", help="workflow name or ARN")
    get.add_argument("--count", type=int, default=5, metavar="N", help=f"next fire times to show (0-{MAX_COUNT}, "
                                                                        "default 5)")
    get.add_argument("--definition", action="store_true", help="print the workflow's definition (YAML) only")
    add_connection_options(get)
    get.set_defaults(run=run_get)
    p.set_defaults(run=help_parent(p))


@guarded("updraft workflow list")
def run_list(args: argparse.Namespace) -> int:
    conn = connect(args)
    workflows = conn.pages("list_workflows", "Workflows")
    if args.output == "json":
        print(to_json(workflows))
    elif args.output == "name":
        for w in sorted(workflows, key=lambda w: str(w.get("Name", ""))):
            print(w.get("Name"))
    elif workflows:
        print(views.workflows_table(workflows, now(), wide=args.output == "wide"))
    else:
        print(f"No workflows at {conn.endpoint}.")
    return 0


@guarded("updraft workflow get")
def run_get(args: argparse.Namespace) -> int:
    if not 0 <= args.count <= MAX_COUNT:
        raise CliError(f"--count must be from 0 to {MAX_COUNT}, got {args.count}", USAGE)
    ref = parse_workflow(args.workflow)
    conn = connect(args)
    target = conn.workflow(ref)
    workflow = conn.call("get_workflow", ref.label, WorkflowArn=target["WorkflowArn"])
    if args.definition:
        text = workflow.get("WorkflowDefinition")
        if not text:
            raise CliError(f"the API returned no definition for {ref.label}", NOT_FOUND)
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    from updraft.remote.fire import preview  # loads the definition validator: only here

    at = now()
    fire = preview(workflow, at, args.count)
    if args.output == "json":
        print(to_json({**plain(workflow), "Schedule": views.fire_json(fire)}))
    else:
        print(views.workflow_text(workflow, fire, at))
    return 0
