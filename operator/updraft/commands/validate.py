"""`updraft validate`: check workflow definitions the way the operator and the API will."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

HELP = """\
Check workflow definitions (YAML, dag-factory format or the simplified form of the MWAA
Serverless guide) with the same validator the operator and the API use.

Checked: YAML syntax (safe subset, no duplicate keys, bounded aliases); size at most 50 KB;
exactly one DAG; dag_id; schedule (a 5-field cron that fires, a preset: @once @hourly @daily
@weekly @monthly @quarterly @yearly @annually, or None); timezone, start_date <= end_date;
max_active_runs 1-20. For every task: the operator is on the guide's supported list (full
import path or class name), retries 0-3, retry_delay 0-300 s (default 300), execution_timeout
at most 3600 s, trigger_rule, sensor mode poke/reschedule, dependencies (known tasks or task
groups, no cycles, unique task ids). Only datetime.timedelta/datetime.datetime __type__ values;
keys that make dag-factory import or run code (callbacks by name or file, *_callable,
decorator, lambdas) and dynamic task mapping (expand/partial) are refused. Parameters MWAA
Serverless ignores are warnings (and dropped), unless they carry Airflow's default value.

Output: one line per problem, `FILE: error: PATH: MESSAGE [rule]` on standard output and
`FILE: warning: PATH: MESSAGE [rule]` on standard error, then `FILE: OK: ...` for a valid file.
PATH is dotted, as in my_dag.tasks.load_data.retries. --json prints one JSON list instead, one
entry per FILE: file, valid, errors[], warnings[] (each with path, rule, message) and, when
valid, dag_id, schedule, timezone and tasks (ids in run order).

Accepted forms and choices: durations (retry_delay, execution_timeout, poke_interval, timeout)
as {__type__: datetime.timedelta, ...} or a number of seconds; a bare number for
execution_timeout is accepted and normalised, although dag-factory alone would reject it.
$NAME is never expanded (dag-factory would read the environment): a warning says so.

Exit status: 0 all files valid (warnings may be printed), 1 at least one file invalid,
2 a file could not be read or the command line is wrong (every other file is still checked).

Examples:
  updraft validate pipeline.yaml
  updraft validate --json dags/*.yaml
  cat pipeline.yaml | updraft validate -"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("validate", help="check workflow definition files", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="definition file(s); - reads standard input")
    p.add_argument("--json", action="store_true", help="print one JSON document with every result")
    p.add_argument("--quiet", "-q", action="store_true", help="print errors only (no warnings, no OK lines)")
    p.set_defaults(run=run)


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    with open(name, encoding="utf-8") as f:
        return f.read()


def run(args: argparse.Namespace) -> int:
    from updraft.definition import validate

    now = datetime.now(timezone.utc)
    results: list[dict[str, Any]] = []
    status = 0
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            text = _read(name)
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            results.append({"file": label, "valid": False, "read_error": reason, "errors": [], "warnings": []})
            print(f"{label}: cannot read: {reason}", file=sys.stderr)
            status = 2  # the others are still checked; a read failure outranks an invalid file
            continue
        result = validate(text, now=now)
        entry: dict[str, Any] = {
            "file": label,
            "valid": result.ok,
            "errors": [{"path": i.path, "rule": i.rule, "message": i.message} for i in result.errors],
            "warnings": [{"path": i.path, "rule": i.rule, "message": i.message} for i in result.warnings],
        }
        if result.graph is not None:
            entry.update(dag_id=result.graph.dag_id, schedule=result.graph.schedule,
                         timezone=result.graph.timezone, tasks=list(result.graph.tasks))
        results.append(entry)
        if not result.ok and status == 0:
            status = 1
        if args.json:
            continue
        for issue in result.errors:
            print(f"{label}: error: {issue}")
        if not args.quiet:
            for issue in result.warnings:
                print(f"{label}: warning: {issue}", file=sys.stderr)
            if result.ok:
                g = result.graph
                assert g is not None
                print(f"{label}: OK: {g.dag_id}, {len(g.tasks)} task(s), schedule {g.schedule or 'None'}")
    if args.json:
        # always a list, one entry per FILE in order: a glob matching one file keeps the same shape
        print(json.dumps(results, indent=2))
    return status
