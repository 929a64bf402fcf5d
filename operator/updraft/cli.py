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


KUBECTL_PROG = "kubectl updraft"


def build_parser(prog: str = "updraft") -> argparse.ArgumentParser:
    from updraft.commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog=prog,
        description=PROLOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Run '{prog} COMMAND --help' for the options of one command. Installed as 'kubectl-updraft' too, "
               "so 'kubectl updraft COMMAND' works as a kubectl plugin.",
    )
    parser.add_argument("--version", action="version", version=f"updraft {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "updraft") -> int:
    parser = build_parser(prog)
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


def kubectl_main() -> int:
    """The `kubectl-updraft` console script: kubectl runs it for `kubectl updraft ...`."""
    return main(prog=KUBECTL_PROG)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
