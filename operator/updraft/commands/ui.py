"""`updraft ui`: a launch URL into the console (CreateAirflowUiUrl), printed or opened."""

from __future__ import annotations

import argparse
import sys

from updraft.commands.apiclient import add_connection_options, connect, guarded, now
from updraft.remote.exits import CONNECTION_HELP, EXIT_CODES_HELP, USAGE, CliError
from updraft.remote.launch import (MAX_SESSION_SECONDS, MAX_URL_SECONDS, MIN_SESSION_SECONDS, MIN_URL_SECONDS,
                                   launch_text, range_problem)
from updraft.remote.render import plain, to_json

HELP = f"""\
Get a launch URL into the Updraft console (the API's CreateAirflowUiUrl, signed with your AWS
credentials) and print it, or open it in a browser with --open. The URL works once, for
--expires seconds (default 300), from the network address that opens it; the console session it
starts lasts --session-duration seconds (default 43200, 12 hours) or until you sign out. The
console shows what your policies let you read (GetWorkflow, ListWorkflowRuns, GetWorkflowRun,
GetTaskInstance ...) and offers Start and Stop only where StartWorkflowRun and StopWorkflowRun
are allowed; each page is in the API's audit log under your identity.

Examples:
  updraft ui --endpoint-url http://localhost:8443 --region us-east-1
  updraft ui --open
  updraft ui --session-duration 3600 -o json | jq -r .AuthorizedUrl

{CONNECTION_HELP}

{EXIT_CODES_HELP}"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ui", help="print (or open) a launch URL into the web console", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--open", action="store_true", help="open the URL in the default browser instead of printing it")
    p.add_argument("--expires", type=int, metavar="SECONDS",
                   help=f"how long the URL stays valid ({MIN_URL_SECONDS}-{MAX_URL_SECONDS}, default 300)")
    p.add_argument("--session-duration", type=int, metavar="SECONDS",
                   help=f"how long the console session lasts ({MIN_SESSION_SECONDS}-{MAX_SESSION_SECONDS}, default 43200)")
    add_connection_options(p)
    p.set_defaults(run=run_ui)


@guarded("updraft ui")
def run_ui(args: argparse.Namespace) -> int:
    for problem in (range_problem(args.expires, MIN_URL_SECONDS, MAX_URL_SECONDS, "--expires"),
                    range_problem(args.session_duration, MIN_SESSION_SECONDS, MAX_SESSION_SECONDS,
                                  "--session-duration")):
        if problem:
            raise CliError(problem, USAGE)
    conn = connect(args)
    answer = conn.call("create_airflow_ui_url", "", ExpiresInSeconds=args.expires,
                       SessionDurationInSeconds=args.session_duration)
    if args.open:
        import webbrowser

        if not webbrowser.open(answer["AuthorizedUrl"]):
            print("no browser could be started; open this URL yourself:", file=sys.stderr)
            print(answer["AuthorizedUrl"])
        return 0
    print(to_json(plain(answer)) if args.output == "json" else launch_text(answer, now()))
    return 0
