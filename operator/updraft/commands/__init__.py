"""Subcommands of the `updraft` CLI. Each module exposes `register(subparsers)`; the parser it
adds sets `run=<function(args) -> exit code>` as its default."""

from updraft.commands import operator, schedule, validate

COMMANDS = [validate.register, schedule.register, operator.register]
