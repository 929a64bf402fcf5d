"""Option values of the API commands, checked (pure): run parameters, durations, workflow
references and endpoint URLs. Each error is a CliError naming the option and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from updraft.arns import parse_workflow_arn
from updraft.remote.exits import NOT_FOUND, USAGE, CliError

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_RUN_ID = re.compile(r"[a-zA-Z0-9]+[a-zA-Z0-9.\-_]*")  # the model's RunId pattern


def parse_parameters(items: Sequence[str], option: str = "-p") -> dict[str, Any]:
    """`key=value` gives the string value; `key:=JSON` a JSON value (number, true, list, object...).

    The map becomes StartWorkflowRun's OverrideParameters."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise CliError(f"{option} {item!r}: expected key=value (a string) or key:=JSON", USAGE)
        key, _, raw = item.partition("=")
        as_json = key.endswith(":")
        key = key[:-1] if as_json else key
        if not _KEY.fullmatch(key):
            raise CliError(f"{option} {item!r}: the key {key!r} must start with a letter or '_' and hold only "
                           "letters, digits, '_', '.' or '-'", USAGE)
        if key in out:
            raise CliError(f"{option} {key!r} is given twice", USAGE)
        if as_json:
            try:
                out[key] = json.loads(raw)
            except json.JSONDecodeError as e:
                raise CliError(f"{option} {item!r}: the value after ':=' is not JSON ({e.msg} at character {e.pos}); "
                               "use key=value for a string", USAGE) from None
        else:
            out[key] = raw
    return out


def parse_duration(text: str, option: str) -> float:
    """Seconds from `90`, `90s`, `5m`, `1h30m`, `1.5h`; must be above 0."""
    raw = text.strip().lower()
    seconds: float | None = None
    try:
        seconds = float(raw)
    except ValueError:
        m = _DURATION.fullmatch(raw)
        if m and raw and any(m.groups()):
            h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            seconds = h * 3600 + mi * 60 + s
    if seconds is None or seconds != seconds:  # not parsed, or NaN
        raise CliError(f"{option} {text!r} is not a duration (e.g. 90, 90s, 15m, 1h30m)", USAGE)
    if seconds <= 0 or seconds == float("inf"):
        raise CliError(f"{option} must be above 0 and finite, got {text!r}", USAGE)
    return seconds


@dataclass(frozen=True)
class WorkflowRef:
    """What the user typed for WORKFLOW: an ARN (used as is) or a name (looked up in ListWorkflows)."""

    text: str
    arn: str | None

    @property
    def label(self) -> str:
        return f"workflow {self.text!r}"


def parse_workflow(text: str) -> WorkflowRef:
    value = text.strip()
    if not value:
        raise CliError("WORKFLOW is empty: give a workflow name or ARN", USAGE)
    if value.startswith("arn:"):
        if parse_workflow_arn(value) is None:
            raise CliError(f"WORKFLOW {value!r} is not a workflow ARN "
                           "(arn:aws:airflow-serverless:REGION:ACCOUNT:workflow/NAME-SUFFIX)", USAGE)
        return WorkflowRef(value, value)
    return WorkflowRef(value, None)


def match_workflow(ref: WorkflowRef, workflows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The one ListWorkflows summary named `ref` (exact name, else case-insensitive), or a CliError."""
    exact = [w for w in workflows if w.get("Name") == ref.text]
    found = exact or [w for w in workflows if str(w.get("Name", "")).lower() == ref.text.lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        names = sorted(str(w.get("Name")) for w in workflows)
        near = [n for n in names if ref.text.lower() in n.lower()][:5]
        hint = (f"; did you mean {', '.join(near)}?" if near
                else f"; {len(names)} workflow(s) visible, see 'updraft workflow list'")
        raise CliError(f"unknown workflow {ref.text!r}{hint}", NOT_FOUND)
    arns = ", ".join(sorted(str(w.get("WorkflowArn")) for w in found))
    raise CliError(f"workflow name {ref.text!r} is ambiguous ({arns}): give the ARN", USAGE)


def parse_run_id(text: str) -> str:
    """RUN as the API's model allows it (1-255 letters, digits, '.', '-', '_'; not starting with
    a symbol), so a typo is refused here rather than after a round trip."""
    value = text.strip()
    if not value or len(value) > 255 or not _RUN_ID.fullmatch(value):
        raise CliError(f"RUN {text!r} is not a run id (1-255 letters, digits, '.', '-' or '_', starting with a "
                       "letter or digit; 'updraft run list WORKFLOW' shows them)", USAGE)
    return value


def check_endpoint(url: str | None, source: str) -> str:
    """The endpoint URL if it is an http(s) URL; `source` names where it came from."""
    if not url or not url.strip():
        raise CliError("no API endpoint configured: give --endpoint-url URL or set UPDRAFT_ENDPOINT_URL "
                       "(e.g. https://localhost:8443)", USAGE)
    value = url.strip()
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        raise CliError(f"{source} {value!r} is not an http:// or https:// URL with a host", USAGE)
    return value
