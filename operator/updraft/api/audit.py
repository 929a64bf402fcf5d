"""The audit log: one CloudTrail-shaped record per API call (building a record is pure; AuditLog
writes it as one JSON line).

The guide promises CloudTrail integration ("API calls and workflow management actions are logged
in CloudTrail for audit and compliance") and shows a CreateWorkflow record. Updraft has no
CloudTrail, so it writes the same record to a stream (stdout by default), where a log shipper can
pick it up and tools built for CloudTrail records can read it. The fields and their order follow
the guide's example and CloudTrail's record contents: eventVersion "1.11" (the guide's), camelCase
request parameters and response elements (`trail_value`), timestamps in ISO 8601 with
milliseconds, `errorCode`/`errorMessage` only on failures, `resources` for the workflow acted on.
`readOnly` and `managementEvent` are JSON booleans as CloudTrail delivers them (the guide's example
prints them as strings).

Values of shapes the service model marks `sensitive` (environment variable values, a run's
OverrideParameters, the Airflow UI URL and session id) never reach the log: they become
"HIDDEN_DUE_TO_SECURITY_REASONS", the placeholder CloudTrail uses.

`userIdentity.principalId` is a stable made-up unique id (AWS's prefix, AIDA for users and AROA for
roles, then 17 characters derived from the ARN): Updraft's principals have no IAM unique ids."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

EVENT_VERSION = "1.11"
EVENT_SOURCE = "airflow-serverless.amazonaws.com"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
RESOURCE_TYPES = {"workflow": "AWS::MWAAServerless::Workflow"}


def _unique_id(prefix: str, arn: str) -> str:
    digest = base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()
    return prefix + digest[:17]


def user_identity(principal_arn: str | None, access_key_id: str | None) -> dict[str, Any]:
    """CloudTrail's userIdentity: IAMUser for user ARNs, AssumedRole for role ARNs, else Unknown
    (a request that was never authenticated, or an ARN of another kind)."""
    parts = (principal_arn or "").split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    kind, _, rest = resource.partition("/")
    if principal_arn is None or kind not in ("user", "role"):
        out: dict[str, Any] = {"type": "Unknown"}
        if principal_arn:
            out["arn"] = principal_arn
        if access_key_id:
            out["accessKeyId"] = access_key_id
        return out
    account, name = parts[4], rest.rsplit("/", 1)[-1]
    if kind == "user":
        out = {"type": "IAMUser", "principalId": _unique_id("AIDA", principal_arn), "arn": principal_arn,
               "accountId": account}
        if access_key_id:
            out["accessKeyId"] = access_key_id
        out["userName"] = name
        return out
    role_id = _unique_id("AROA", principal_arn)
    out = {"type": "AssumedRole", "principalId": f"{role_id}:{access_key_id}" if access_key_id else role_id,
           "arn": principal_arn, "accountId": account}
    if access_key_id:
        out["accessKeyId"] = access_key_id
    out["sessionContext"] = {"sessionIssuer": {"type": "Role", "principalId": role_id, "arn": principal_arn,
                                               "accountId": account, "userName": name}}
    return out


def _resource(arn: str) -> dict[str, str]:
    parts = arn.split(":", 5)
    kind = parts[5].split("/", 1)[0] if len(parts) == 6 else ""
    return {"accountId": parts[4] if len(parts) == 6 else "",
            "type": RESOURCE_TYPES.get(kind, f"AWS::MWAAServerless::{kind[:1].upper()}{kind[1:]}"), "ARN": arn}


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return now.astimezone(timezone.utc)


def event(*, operation: str, principal_arn: str | None, access_key_id: str | None, source_ip: str,
          user_agent: str, request_parameters: Mapping[str, Any] | None, response_elements: Mapping[str, Any] | None,
          error_code: str | None, error_message: str | None, region: str, account_id: str, now: datetime,
          request_id: str, event_id: str, resources: Sequence[str] = (),
          additional_event_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One CloudTrail-shaped record. Pass request parameters and response elements already in
    CloudTrail form (see trail_value), or None when there are none (CloudTrail writes null)."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(principal_arn, access_key_id),
        "eventTime": _utc(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": EVENT_SOURCE,
        "eventName": operation,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if error_code:
        record["errorCode"] = error_code
        if error_message:
            record["errorMessage"] = error_message
    record.update({
        "requestParameters": dict(request_parameters) if request_parameters is not None else None,
        "responseElements": dict(response_elements) if response_elements is not None else None,
        **({"additionalEventData": dict(additional_event_data)} if additional_event_data else {}),
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": operation.startswith(("Get", "List")),
    })
    if resources:
        record["resources"] = [_resource(arn) for arn in resources]
    record.update({"eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account_id,
                   "eventCategory": "Management"})
    return record


MAX_TEXT = 1024  # userAgent, errorMessage, sourceIPAddress: the caller chooses what they hold
MAX_EVENT_BYTES = 64 * 1024
TRUNCATED = "...(truncated)"


def _clip(text: Any, limit: int) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit - len(TRUNCATED)] + TRUNCATED
    return text


def bounded(record: Mapping[str, Any], *, max_text: int = MAX_TEXT, max_bytes: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """The record with caller-controlled text cut to `max_text` characters, and, when it would
    still be larger than `max_bytes` as JSON, its requestParameters and responseElements left out
    (null, named in additionalEventData.omitted), so one request writes at most about `max_bytes`."""
    out = dict(record)
    for key in ("userAgent", "errorMessage", "sourceIPAddress"):
        if key in out:
            out[key] = _clip(out[key], max_text)
    if len(json.dumps(out, separators=(",", ":"), default=_json_default)) > max_bytes:
        omitted = [k for k in ("requestParameters", "responseElements") if out.get(k) is not None]
        out.update({k: None for k in omitted})
        out["additionalEventData"] = {**(out.get("additionalEventData") or {}), "omitted": omitted,
                                      "reason": f"the event was larger than {max_bytes} bytes"}
    return out


# ---------------------------------------------------------------- the model's sensitive shapes

Shapes = Mapping[str, Mapping[str, Any]]  # the "shapes" object of the service model (service-2.json)


def sensitive_paths(model_shapes: Shapes, input_shape_name: str) -> frozenset[tuple[str, ...]]:
    """Member paths under `input_shape_name` whose shape is sensitive, e.g.
    ("Environment", "Variables", "*"): "*" stands for every list item or map value."""
    found: set[tuple[str, ...]] = set()

    def walk(name: str, path: tuple[str, ...], seen: frozenset[str]) -> None:
        shape = model_shapes[name]
        if shape.get("sensitive"):
            found.add(path)
            return
        if name in seen:
            return
        seen = seen | {name}
        kind = shape.get("type")
        if kind == "structure":
            for member, ref in shape.get("members", {}).items():
                walk(ref["shape"], (*path, member), seen)
        elif kind == "list":
            walk(shape["member"]["shape"], (*path, "*"), seen)
        elif kind == "map":
            walk(shape["value"]["shape"], (*path, "*"), seen)

    walk(input_shape_name, (), frozenset())
    return frozenset(found)


def redact(value: Any, paths: frozenset[tuple[str, ...]] | set[tuple[str, ...]]) -> Any:
    """A copy of `value` (wire-format names) with every value at one of `paths` hidden."""
    if () in paths:
        return HIDDEN
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            sub = {p[1:] for p in paths if p and p[0] in (k, "*")}
            out[k] = redact(v, sub) if sub else v
        return out
    if isinstance(value, list):
        sub = {p[1:] for p in paths if p and p[0] == "*"}
        return [redact(v, sub) for v in value] if sub else list(value)
    return value


def _timestamp(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        t = _utc(value)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return value


def trail_value(model_shapes: Shapes, shape_name: str, value: Any) -> Any:
    """`value` (an operation's input or output, wire format) as CloudTrail records it: structure
    members in camelCase (map keys untouched), timestamps in ISO 8601 with milliseconds, sensitive
    values hidden, members the model does not know left out."""
    shape = model_shapes[shape_name]
    if shape.get("sensitive"):
        return HIDDEN
    kind = shape.get("type")
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.get("members", {})
        return {k[:1].lower() + k[1:]: trail_value(model_shapes, members[k]["shape"], v)
                for k, v in value.items() if k in members}
    if kind == "map" and isinstance(value, Mapping):
        return {k: trail_value(model_shapes, shape["value"]["shape"], v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [trail_value(model_shapes, shape["member"]["shape"], v) for v in value]
    if kind == "timestamp":
        return _timestamp(value)
    return value


# ---------------------------------------------------------------- the writer

def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _timestamp(value)
    return str(value)


class AuditLog:
    """Writes each record as one compact JSON line and flushes, so a crash loses no record and
    concurrent writers never interleave. The stream defaults to sys.stdout (looked up at write time)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, event: Mapping[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":"), default=_json_default)
        stream = self._stream if self._stream is not None else sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()
