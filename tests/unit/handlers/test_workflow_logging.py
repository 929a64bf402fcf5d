"""A Workflow's log group, against a real CloudWatch Logs API (a moto server): the operator makes
the default group once, with the chart's retention, and shows it in status.logGroupName; a group
the user names is looked for, never made (LoggingReady=False, GroupNotFound); with
logs.backend none a named group is reported as not served."""

from __future__ import annotations

from typing import Any

import boto3
from harness import NS, Clock, context, workflow_body
from fakekube import FakeKube

from updraft.handlers.context import Context
from updraft.handlers.workflows import reconcile_workflow
from updraft.model import names

HELLO = "hello:\n  tasks:\n    first: {operator: EmptyOperator}\n"


class Calls:
    """The logs client, counting its calls (the group is made once, not on every reconcile)."""

    def __init__(self, client: Any) -> None:
        self.client, self.count = client, 0

    def __getattr__(self, name: str) -> Any:
        self.count += 1
        return getattr(self.client, name)


async def _reconcile(kube: FakeKube, clock: Clock, name: str, logs: Any, **settings: Any) -> dict[str, Any]:
    body = await kube.get("Workflow", name, NS)
    ctx: Context = context(kube, clock, **settings)
    ctx.logs_client_factory = (lambda: logs) if logs is not None else None
    status = await reconcile_workflow(ctx, body)
    return (await kube.patch_status("Workflow", name, NS, status))["status"]


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


async def test_the_default_group_is_made_once_with_its_retention(kube: FakeKube, clock: Clock, moto_s3: str) -> None:
    logs = Calls(boto3.client("logs", endpoint_url=moto_s3, region_name="us-east-1"))
    created = (await kube.create(workflow_body("hello", HELLO), NS)).body
    status = await _reconcile(kube, clock, "hello", logs, logs_backend="cloudwatch", logs_retention_days=14)
    group = names.default_log_group(names.workflow_id("hello", created["metadata"]["uid"]))
    assert status["logGroupName"] == group and status["arn"].endswith(group.split("/")[3])
    ready = _condition(status, "LoggingReady")
    assert (ready["status"], ready["reason"]) == ("True", "GroupCreated") and "14 days" in ready["message"]
    assert _condition(status, "DefinitionValid")["status"] == "True"
    found = logs.client.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in found] == [(group, 14)]
    calls = logs.count
    again = await _reconcile(kube, clock, "hello", logs, logs_backend="cloudwatch", logs_retention_days=14)
    assert logs.count == calls and _condition(again, "LoggingReady")["status"] == "True"
    assert _condition(again, "DefinitionValid")["status"] == "True"


async def test_a_named_group_is_the_users(kube: FakeKube, clock: Clock, moto_s3: str) -> None:
    client = boto3.client("logs", endpoint_url=moto_s3, region_name="us-east-1")
    await kube.create(workflow_body("named", HELLO, logging={"logGroupName": "/team/etl-missing"}), NS)
    status = await _reconcile(kube, clock, "named", client, logs_backend="cloudwatch")
    ready = _condition(status, "LoggingReady")
    assert (status["logGroupName"], ready["status"], ready["reason"]) == ("/team/etl-missing", "False", "GroupNotFound")
    assert not client.describe_log_groups(logGroupNamePrefix="/team/etl-missing")["logGroups"]  # never made
    client.create_log_group(logGroupName="/team/etl-missing")
    status = await _reconcile(kube, clock, "named", client, logs_backend="cloudwatch")
    assert _condition(status, "LoggingReady")["reason"] == "GroupFound"


async def test_without_cloudwatch_a_named_group_is_reported_and_nothing_is_called(kube: FakeKube, clock: Clock) -> None:
    await kube.create(workflow_body("named", HELLO, logging={"logGroupName": "/team/etl"}), NS)
    await kube.create(workflow_body("plain", HELLO), NS)
    status = await _reconcile(kube, clock, "named", None, logs_backend="none")
    assert "logGroupName" not in status and _condition(status, "LoggingReady")["reason"] == "BackendDisabled"
    plain = await _reconcile(kube, clock, "plain", None, logs_backend="none")
    assert "logGroupName" not in plain and [c["type"] for c in plain["conditions"]] == ["DefinitionValid"]
