"""AWS JSON 1.0, as botocore speaks it to MWAA Serverless (pure).

A request is `POST /` with `X-Amz-Target: AmazonMWAAServerless.<Operation>` and a JSON object
body (`application/x-amz-json-1.0`). A response is the operation's output shape as JSON, with
timestamps in ISO 8601 (the model's `timestampFormat`); an error is `{"__type": <code>,
"message": ...}` plus the exception shape's other members, with the code's HTTP status."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.model import Shape

from updraft.api import model
from updraft.api.errors import ApiError, validation
from updraft.guards.depth import deeper_than

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_HEADER = "X-Amz-Target"
MAX_BODY = 1024 * 1024
MAX_DEPTH = 32  # the model's deepest input is 4 levels; documents (OverrideParameters) get room to spare


def target_operation(target: str | None) -> str:
    """The operation an `X-Amz-Target` names, or ValidationException (reason unknownOperation)."""
    prefix = model.service_model().metadata["targetPrefix"] + "."
    if not target:
        raise validation(f"Missing {TARGET_HEADER} header: expected {prefix}<Operation>", reason="unknownOperation")
    if not target.startswith(prefix) or target[len(prefix):] not in model.operation_names():
        raise validation(f"Unknown operation {target!r}: expected {prefix}<Operation> with one of "
                         f"{', '.join(sorted(model.operation_names()))}", reason="unknownOperation")
    return target[len(prefix):]



def decode_body(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise validation(f"The request body is larger than {MAX_BODY} bytes", reason="cannotParse")
    if not body.strip():
        return {}
    too_deep = validation(f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep",
                          reason="cannotParse")
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise validation(f"The request body is not valid JSON: {getattr(e, 'msg', str(e))}", reason="cannotParse") from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts (4300)
        raise validation(f"The request body is not valid JSON: {str(e)[:200]}", reason="cannotParse") from None
    except RecursionError:  # the C parser stops cleanly at the interpreter's recursion limit
        raise too_deep from None
    if deeper_than(value, MAX_DEPTH):  # so no recursive code downstream (checks, audit) meets it
        raise too_deep
    if not isinstance(value, dict):
        raise validation("The request body must be a JSON object", reason="cannotParse")
    return value


def iso8601(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def encode_output(operation_name: str, data: Mapping[str, Any]) -> bytes:
    shape = model.operation(operation_name).output_shape
    out = _encode(shape, data) if shape is not None else {}
    return json.dumps(out, separators=(",", ":")).encode()


def _encode(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if shape.metadata.get("document"):
        return value
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            encoded = _encode(member, value.get(name))
            if encoded is not None:
                out[name] = encoded
        return out
    if kind == "list":
        return [_encode(shape.member, v) for v in value]
    if kind == "map":
        return {k: _encode(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, datetime):
            return iso8601(value)
        return value
    return value


def encode_error(error: ApiError) -> tuple[int, bytes]:
    return error.status, json.dumps(error.body(), separators=(",", ":")).encode()
