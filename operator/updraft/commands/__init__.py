"""Subcommands of the `updraft` CLI. Each module exposes `register(subparsers)`; the parser it
adds sets `run=<function(args) -> exit code>` as its default."""

from updraft.commands import api, logs, operator, run, schedule, ui, validate, workflow

COMMANDS = [validate.register, schedule.register, workflow.register, run.register, logs.register, ui.register,
            operator.register, api.register]
