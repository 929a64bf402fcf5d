"""Workflow ARNs and the names behind them (pure), shared by the operator and the API.

`arn:aws:airflow-serverless:<region>:<account>:workflow/<name>-<10 alphanumerics>`, exactly the
model's WorkflowArn pattern. `<name>` is the workflow's API name: the Kubernetes object name, or,
for a name Kubernetes cannot hold (capitals, '_', longer than a label), the name kept in the
annotation `updraft.dev/workflow-name`. The suffix is derived from the object's uid, so a
re-created workflow gets a new ARN, as in AWS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from updraft.model import names


PARTITION = "aws"  # the only partition this API serves; the model's pattern admits others
ARN_MEMBERS = ("WorkflowArn", "ResourceArn")  # the request members that name a workflow
_ARN = re.compile(r"arn:(aws(?:-(?:cn|us-gov|iso|iso-b|iso-e|iso-f))?):airflow-serverless:([a-z]{2}-(?:[a-z]+-)+[0-9]):"
                  r"([0-9]{12}):workflow/([a-zA-Z0-9][a-zA-Z0-9.\-_]{0,254})-([a-zA-Z0-9]{10})")


def arn_suffix(uid: str) -> str:
    return names.workflow_id("", uid)[1:]


def workflow_arn(region: str, account: str, name: str, uid: str) -> str:
    return f"arn:aws:airflow-serverless:{region}:{account}:workflow/{names.workflow_id(name, uid)}"


def workflow_id_of(workflow: Mapping[str, Any]) -> str:
    """The workflow id inside its ARN (log group and stream names use it)."""
    return names.workflow_id(api_name(workflow), workflow["metadata"]["uid"])


def api_name(workflow: Mapping[str, Any]) -> str:
    meta = workflow["metadata"]
    return str((meta.get("annotations") or {}).get(names.ANNOTATION_API_NAME) or meta["name"])


def arn_of(workflow: Mapping[str, Any], region: str, account: str) -> str:
    return workflow_arn(region, account, api_name(workflow), workflow["metadata"]["uid"])


@dataclass(frozen=True)
class WorkflowRef:
    partition: str
    region: str
    account: str
    name: str  # the API name
    suffix: str

    @property
    def object_name(self) -> str:
        return names.workflow_object_name(self.name)


def parse_workflow_arn(arn: str) -> WorkflowRef | None:
    m = _ARN.fullmatch(arn)
    if m is None:
        return None
    return WorkflowRef(*m.groups())


def foreign_partition(arn: str) -> str | None:
    """The partition of a workflow ARN when it is not this API's own, else None. An ARN in
    another partition (aws-us-gov, aws-cn, ...) names nothing here; it must be refused, never
    resolved, or a policy written for `arn:aws:...` would not apply to it."""
    ref = parse_workflow_arn(arn)
    return ref.partition if ref is not None and ref.partition != PARTITION else None


def partition_problems(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(member, message) for every ARN member of a request that names another partition."""
    out = []
    for member in ARN_MEMBERS:
        value = params.get(member)
        partition = foreign_partition(value) if isinstance(value, str) else None
        if partition is not None:
            out.append((member, f'is in partition "{partition}"; this API serves only partition "{PARTITION}" '
                                f"(arn:{PARTITION}:airflow-serverless:...)"))
    return out


def authorization_resource(requested: str, found: Mapping[str, Any] | None, region: str, account: str) -> str:
    """The ARN a request is authorized against: the ARN of the workflow it resolved to, whatever
    spelling the caller used, or the caller's string when it resolves to nothing."""
    return arn_of(found, region, account) if found is not None else requested
