"""The `updraft` command line: one entry point, one module per subcommand under `commands/`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from updraft import __version__

PROLOG = """\
Updraft runs MWAA Serverless-style Airflow workflows (YAML, dag-factory format) on your own
Kubernetes: one pod per task attempt, cron schedules with time zones, and an API that boto3's
"mwaa-serverless" client and the AWS CLI speak unchanged."""


def build_parser() -> argparse.ArgumentParser:
    from updraft.commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog="updraft",
        description=PROLOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'updraft COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"updraft {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
