"""`updraft schedule next`: preview a schedule's fire times before trusting it.

A thin shell over `updraft.schedule`: it parses the options, reads the clock only when --after is
absent, and turns every bad input into one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone, tzinfo

HELP = """\
Print the next fire times of a cron schedule in a time zone, strictly after an instant, one
ISO-8601 UTC instant per line. The semantics are Airflow 3's CronTriggerTimetable: the cron runs
on the zone's wall clock; on a DST gap a missing time fires once, shifted forward (02:30 becomes
03:30); on a DST overlap a daily time fires once (the second occurrence), while hourly and more
frequent crons fire in both repeated hours. --start and --end bound the schedule like a
definition's start_date and end_date (a fire time equal to --end still fires).

Instants: --after without an offset is UTC; --start and --end without an offset are wall times
in --timezone. A trailing Z means UTC.

Examples:
  updraft schedule next --cron "30 2 * * *" --timezone Europe/Paris --after 2026-03-27T00:00:00Z --count 3
  updraft schedule next --cron @daily --timezone America/New_York --local"""

MAX_COUNT = 1000
PROG = "updraft schedule next"


class _Usage(Exception):
    """A bad option value; the message names the option."""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("schedule", help="preview schedules (fire times in a time zone)",
                       description="Schedule tools. See 'updraft schedule next --help'.")
    inner = p.add_subparsers(dest="schedule_command", metavar="SUBCOMMAND")
    n = inner.add_parser("next", help="print the next fire times of a cron in a time zone", description=HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    n.add_argument("--cron", required=True, metavar="EXPR",
                   help="5-field cron or a preset (@hourly @daily @weekly @monthly @quarterly @yearly "
                        "@annually @once)")
    n.add_argument("--timezone", default="UTC", metavar="TZ",
                   help="IANA time zone such as Europe/Paris, or an offset such as +05:30 (default UTC)")
    n.add_argument("--after", metavar="ISO8601",
                   help="print fire times strictly after this instant; without an offset it is UTC (default: now)")
    n.add_argument("--count", type=int, default=1, metavar="N", help=f"how many fire times (1-{MAX_COUNT}, default 1)")
    n.add_argument("--start", metavar="ISO8601", help="start_date bound (without an offset: in --timezone)")
    n.add_argument("--end", metavar="ISO8601", help="end_date bound (without an offset: in --timezone)")
    n.add_argument("--local", action="store_true", help="also print each time on the zone's wall clock")
    n.set_defaults(run=run_next)
    p.set_defaults(run=lambda args: _usage(p))


def _instant(text: str, option: str, default_tz: tzinfo) -> datetime:
    """An aware datetime from ISO-8601 text; a naive one is read in `default_tz`."""
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _Usage(f"{option} {text!r} is not an ISO-8601 date or date-time (e.g. 2026-03-29T01:00:00Z)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=default_tz)


def _format(t: datetime, tz: tzinfo, local: bool) -> str:
    line = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{line}  {t.astimezone(tz).isoformat()}" if local else line


def run_next(args: argparse.Namespace) -> int:
    from updraft.schedule import ScheduleError, fire_times, parse, zone

    def fail(message: str) -> int:
        print(f"{PROG}: {message}", file=sys.stderr)
        return 2

    if not 1 <= args.count <= MAX_COUNT:
        return fail(f"--count must be from 1 to {MAX_COUNT}, got {args.count}")
    try:
        tz = zone(args.timezone)
        parse(args.cron, args.timezone)  # cron and zone errors before any instant errors
        after = _instant(args.after, "--after", timezone.utc) if args.after else datetime.now(timezone.utc)
        start = _instant(args.start, "--start", tz) if args.start else None
        end = _instant(args.end, "--end", tz) if args.end else None
        times = fire_times(parse(args.cron, args.timezone, start, end), after, args.count)
    except ScheduleError as e:
        return fail(f"--{e.field} {e.message}" if e.field in ("cron", "timezone", "start", "end", "after")
                    else str(e))
    except _Usage as e:
        return fail(str(e))
    except (OverflowError, ValueError) as e:  # e.g. fire times beyond year 9999
        return fail(f"cannot compute fire times: {e}")
    out = [_format(t, tz, args.local) for t in times]
    if out:
        print("\n".join(out))
    if len(times) < args.count:
        print(f"{PROG}: {len(times)} of {args.count} fire times; the schedule has no more "
              "(no cron, @once done, or past --end)", file=sys.stderr)
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    """No subcommand given: the help, and the exit code of a usage error."""
    parser.print_help(sys.stderr)
    return 2
