"""`updraft schedule next`: preview a schedule's fire times before trusting it."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

HELP = """\
Print the next fire times of a cron schedule in a time zone, strictly after an instant, one
ISO-8601 UTC instant per line. The semantics are Airflow 3's CronTriggerTimetable: the cron runs
on the zone's wall clock; on a DST gap a missing time fires once, shifted forward (02:30 becomes
03:30); on a DST overlap a daily time fires once, while hourly and more frequent crons fire in
both repeated hours.

Examples:
  updraft schedule next --cron "30 2 * * *" --timezone Europe/Paris --after 2026-03-27T00:00:00Z --count 3
  updraft schedule next --cron @daily --timezone America/New_York --local"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("schedule", help="preview schedules (fire times in a time zone)",
                       description="Schedule tools. See 'updraft schedule next --help'.")
    inner = p.add_subparsers(dest="schedule_command", metavar="SUBCOMMAND")
    n = inner.add_parser("next", help="print the next fire times of a cron in a time zone", description=HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    n.add_argument("--cron", required=True, help="5-field cron or a preset (@hourly @daily @weekly @monthly "
                                                 "@quarterly @yearly @once)")
    n.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC)")
    n.add_argument("--after", help="ISO-8601 instant; without an offset it is UTC (default: now)")
    n.add_argument("--count", type=int, default=1, help="how many fire times (1-1000, default 1)")
    n.add_argument("--start", help="start_date bound (ISO-8601; without an offset it is in --timezone)")
    n.add_argument("--end", help="end_date bound (ISO-8601; without an offset it is in --timezone)")
    n.add_argument("--local", action="store_true", help="also print each time on the zone's wall clock")
    n.set_defaults(run=run_next)
    p.set_defaults(run=lambda args: (p.print_help(sys.stderr), 2)[1])


def _instant(text: str, option: str, default_tz: object) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"updraft schedule next: {option} {text!r} is not an ISO-8601 date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=default_tz)  # type: ignore[arg-type]


def run_next(args: argparse.Namespace) -> int:
    from updraft.schedule import ScheduleError, fire_times, parse

    def fail(message: str) -> int:
        print(f"updraft schedule next: {message}", file=sys.stderr)
        return 2

    if not 1 <= args.count <= 1000:
        return fail(f"--count must be from 1 to 1000, got {args.count}")
    try:
        probe = parse(args.cron, args.timezone)
        tz = probe.tz
        after = _instant(args.after, "--after", timezone.utc) if args.after else datetime.now(timezone.utc)
        start = _instant(args.start, "--start", tz) if args.start else None
        end = _instant(args.end, "--end", tz) if args.end else None
        schedule = parse(args.cron, args.timezone, start, end)
        times = fire_times(schedule, after, args.count)
    except ScheduleError as e:
        return fail(f"--{e.field}: {e.message}" if e.field in ("cron", "timezone", "start", "end") else str(e))
    except SystemExit as e:
        return fail(str(e).split(": ", 1)[1])
    for t in times:
        line = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if args.local:
            line += "  " + t.astimezone(tz).isoformat()
        print(line)
    if not times:
        print("(no fire times: the schedule has ended or has none)", file=sys.stderr)
    return 0
