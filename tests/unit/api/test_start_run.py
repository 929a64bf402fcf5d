"""StartWorkflowRun right after CreateWorkflow: the API returned the new version's id, so a run
may start at once even if the operator has not recorded that version yet (the run then waits
for it); only a workflow whose definition the operator found invalid refuses, naming why.
Against the Kubernetes stand-in (tests/unit/fakekube.py): what matters is the API's decision."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fakekube import FakeKube  # noqa: E402

from updraft import arns  # noqa: E402
from updraft.api.errors import ApiError  # noqa: E402
from updraft.api.pagination import PageTokens  # noqa: E402
from updraft.api.service import Service, ServiceConfig  # noqa: E402
from updraft.model import names  # noqa: E402
from updraft.model.workflow import CONDITION_DEFINITION_VALID  # noqa: E402

REGION, ACCOUNT, NS = "us-east-1", "123456789012", "d"
DEFINITION = "d:\n  tasks:\n    t: {operator: airflow.providers.standard.operators.empty.EmptyOperator}\n"


def _service(kube: FakeKube) -> Service:
    return Service(kube, ServiceConfig(namespace=NS, region=REGION, account_id=ACCOUNT),  # type: ignore[arg-type]
                   PageTokens(b"k" * 32), s3_client_factory=lambda: None,
                   clock=lambda: datetime(2026, 12, 3, tzinfo=timezone.utc))


def _workflow(kube: FakeKube, name: str, status: dict[str, object] | None = None) -> str:
    body = kube.put({"apiVersion": names.API_VERSION, "kind": "Workflow", "metadata": {"name": name},
                     "spec": {"definition": DEFINITION, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}}, NS)
    if status is not None:
        kube.objects[("Workflow", NS, name)]["status"] = status
    assert body
    return arns.arn_of(kube.objects[("Workflow", NS, name)], REGION, ACCOUNT)


async def test_a_workflow_not_yet_recorded_by_the_operator_takes_a_run() -> None:
    kube = FakeKube()
    arn = _workflow(kube, "fresh")
    run_id = (await _service(kube).start_workflow_run({"WorkflowArn": arn}))["RunId"]
    run = kube.objects[("WorkflowRun", NS, run_id)]
    assert run["spec"]["workflowName"] == "fresh" and "workflowVersion" not in run["spec"]


async def test_a_workflow_found_invalid_refuses_a_run_and_says_why() -> None:
    kube = FakeKube()
    arn = _workflow(kube, "broken", {"conditions": [{"type": CONDITION_DEFINITION_VALID, "status": "False",
                                                     "message": "tasks.t: unknown operator"}]})
    with pytest.raises(ApiError) as refused:
        await _service(kube).start_workflow_run({"WorkflowArn": arn})
    assert refused.value.code == "ConflictException" and "tasks.t: unknown operator" in str(refused.value)
    assert not [k for k in kube.objects if k[0] == "WorkflowRun"]
