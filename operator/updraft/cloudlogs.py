"""CloudWatch Logs for the operator and the API (boto3, their own credentials; blocking calls, run
them with asyncio.to_thread): the default log group of a workflow, and reading a stream back.
Task pods write their streams themselves (runner/shipper.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class LogsError(Exception):
    """A CloudWatch Logs call failed; `code` is the service's error code (or the exception's type)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _code(e: Exception) -> str:
    response = getattr(e, "response", None)
    return str(((response or {}).get("Error") or {}).get("Code") or type(e).__name__)


def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except Exception as e:  # noqa: BLE001 - botocore's errors, whatever their class
        raise LogsError(_code(e), str(e)) from None


def client(region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("logs", region_name=region, config=Config(connect_timeout=3, read_timeout=10,
                                                                   retries={"mode": "standard", "max_attempts": 3}))


def ensure_group(logs: Any, name: str, retention_days: int) -> bool:
    """Create the group (if missing) and set its retention (0: keep forever). True when it was made."""
    created = True
    try:
        _call(logs.create_log_group, logGroupName=name)
    except LogsError as e:
        if e.code != "ResourceAlreadyExistsException":
            raise
        created = False
    if retention_days:
        _call(logs.put_retention_policy, logGroupName=name, retentionInDays=retention_days)
    return created


def group_exists(logs: Any, name: str) -> bool:
    found = _call(logs.describe_log_groups, logGroupNamePrefix=name, limit=5)
    return any(g.get("logGroupName") == name for g in found.get("logGroups") or [])


@dataclass(frozen=True)
class Page:
    lines: list[str]
    next_token: str | None  # give it back to read on (the same token when nothing is new yet)


def read(logs: Any, group: str, stream: str, token: str | None = None, limit: int = 1000) -> Page:
    """A page of a stream, oldest first. A stream that does not exist yet is an empty page."""
    args: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True, "limit": limit}
    if token:
        args["nextToken"] = token
    try:
        got = _call(logs.get_log_events, **args)
    except LogsError as e:
        if e.code == "ResourceNotFoundException":
            return Page([], token)
        raise
    return Page([str(ev.get("message", "")) for ev in got.get("events") or []], got.get("nextForwardToken") or token)
