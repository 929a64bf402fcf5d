"""The partition bypass (issue 21): `arn:aws-us-gov:...:workflow/prod-etl-<suffix>` passes the model's
pattern; it must name nothing here, and authorization must use the ARN of the workflow found.

`Service` is exercised over a stand-in Kube that only answers `get_or_none` from a dict: the
property is about how an ARN is resolved and which ARN is authorized, not about the apiserver
(tests/integration/test_api_lifecycle.py runs the real one)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from updraft import arns
from updraft.api import policy
from updraft.api.pagination import PageTokens
from updraft.api.service import Service, ServiceConfig

REGION, ACCOUNT = "us-east-1", "123456789012"
WORKFLOW = {"metadata": {"name": "prod-etl", "uid": "u-1", "namespace": "ns"}, "spec": {"tags": {"env": "prod"}}}
CANONICAL = arns.arn_of(WORKFLOW, REGION, ACCOUNT)


class OneWorkflowKube:
    async def get_or_none(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return WORKFLOW if (kind, name) == ("Workflow", "prod-etl") else None


def _service() -> Service:
    return Service(OneWorkflowKube(), ServiceConfig(namespace="ns", region=REGION, account_id=ACCOUNT),  # type: ignore[arg-type]
                   PageTokens(b"k" * 32), s3_client_factory=lambda: None, clock=lambda: datetime.now(timezone.utc))


def test_foreign_partitions_are_named_and_the_own_is_not():
    gov = CANONICAL.replace("arn:aws:", "arn:aws-us-gov:")
    assert arns.foreign_partition(CANONICAL) is None
    assert arns.foreign_partition(gov) == "aws-us-gov"
    assert arns.partition_problems({"WorkflowArn": gov, "ResourceArn": CANONICAL}) == [
        ("WorkflowArn", 'is in partition "aws-us-gov"; this API serves only partition "aws" '
                        "(arn:aws:airflow-serverless:...)")]
    assert arns.partition_problems({"WorkflowArn": 7}) == []


async def test_an_arn_of_another_partition_finds_nothing():
    service = _service()
    assert await service.find_workflow(CANONICAL) == WORKFLOW
    for partition in ("aws-us-gov", "aws-cn", "aws-iso"):
        assert await service.find_workflow(CANONICAL.replace("arn:aws:", f"arn:{partition}:")) is None


async def test_authorization_uses_the_arn_of_the_workflow_found():
    service = _service()
    deny_prod = ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "airflow-serverless:DeleteWorkflow",
         "Resource": f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/prod-*"}]},)
    resource, tags = await service.resource_of("DeleteWorkflow", {"WorkflowArn": CANONICAL})
    assert (resource, tags) == (CANONICAL, {"env": "prod"})
    decision = policy.evaluate(deny_prod, action="airflow-serverless:DeleteWorkflow", resource=resource,
                               context=policy.request_context(principal_arn="arn:aws:iam::123456789012:user/a"))
    assert decision.explicit_deny
    assert arns.authorization_resource("typed-by-caller", WORKFLOW, REGION, ACCOUNT) == CANONICAL
    assert arns.authorization_resource("typed-by-caller", None, REGION, ACCOUNT) == "typed-by-caller"
