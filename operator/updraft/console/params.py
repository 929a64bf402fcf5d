"""The start-run form's fields -> StartWorkflowRun's OverrideParameters (pure).

The form has one text field per `params` entry of the definition, prefilled with its default (a
string as it is, anything else as JSON). A field left at its default is not sent, so the run
shows only what the user changed; a changed field is sent as a string when the default is a
string (or absent), otherwise parsed as JSON. Unknown fields are refused, naming them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from updraft.api import errors
from updraft.api.errors import FieldProblem
from updraft.console.pages import param_default, param_text

PREFIX = "param."


def parse_form_parameters(form: Mapping[str, str], defined: Mapping[str, Any]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for field, text in form.items():
        if not field.startswith(PREFIX):
            continue
        name = field[len(PREFIX):]
        if name not in defined:
            problems.append(FieldProblem(f"OverrideParameters.{name}", "is not a param of the definition"))
            continue
        if text == param_text(defined[name]):
            continue
        default = param_default(defined[name])
        if default is None or isinstance(default, str):
            overrides[name] = text
            continue
        try:
            overrides[name] = json.loads(text)
        except ValueError:
            problems.append(FieldProblem(f"OverrideParameters.{name}",
                                         f"must be JSON like its default ({json.dumps(default)[:60]})"))
    if problems:
        raise errors.validation("The run's parameters are not valid: " + "; ".join(
            str(p) for p in problems), problems)
    return overrides
