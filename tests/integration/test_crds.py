"""The CRDs in crds/ enforce the field contract at the API server: good manifests pass, each bad
one is refused with a message that names the field (server-side dry run, nothing is stored)."""

from __future__ import annotations

import copy

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]

ROLE = "arn:aws:iam::123456789012:role/updraft-demo"
WORKFLOW = {
    "apiVersion": "updraft.dev/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "demo"},
    "spec": {"definition": "demo:\n  dag_id: demo\n  tasks: {}\n", "roleArn": ROLE},
}
RUN = {
    "apiVersion": "updraft.dev/v1alpha1",
    "kind": "WorkflowRun",
    "metadata": {"name": "demo-run"},
    "spec": {"workflowName": "demo"},
}


def _with(base: dict, **spec: object) -> dict:
    body = copy.deepcopy(base)
    for key, value in spec.items():
        if value is None:
            body["spec"].pop(key, None)
        else:
            body["spec"][key] = value
    return body


async def _dry_run(api: object, namespace: str, body: dict) -> str | None:
    """None when the API server accepts `body`, else its error message."""
    from updraft.k8s.resources import Invalid, Kube

    kube = Kube(api)
    kind = body["kind"]
    from updraft.k8s.resources import KINDS

    try:
        await kube._call("POST", KINDS[kind].path(namespace), body, query=[("dryRun", "All")])
    except Invalid as e:
        return e.message
    return None


GOOD = [
    pytest.param(WORKFLOW, id="workflow-inline-minimal"),
    pytest.param(_with(WORKFLOW, definition=None, definitionConfigMapRef={"name": "defs", "key": "demo.yaml"}), id="workflow-configmap"),
    pytest.param(_with(WORKFLOW, definition=None, definitionS3Location={"bucket": "my-bucket", "objectKey": "dags/demo.yaml", "versionId": "3"}), id="workflow-s3"),
    pytest.param(_with(WORKFLOW, tags={"team name": "data-eng", "cost:center": "42", "empty": ""}, triggerMode="manual_only",
                       timezone="America/New_York", network={"securityGroupIds": ["sg-0abc"], "subnetIds": ["subnet-1a"],
                                                             "egress": [{"cidr": "10.0.0.0/8", "ports": [{"port": 5432}]}]},
                       encryption={"type": "CUSTOMER_MANAGED_KEY", "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/x"},
                       logging={"logGroupName": "/updraft/demo"}, engineVersion=1), id="workflow-everything"),
    pytest.param(RUN, id="run-minimal"),
    pytest.param(_with(RUN, workflowVersion="0123456789abcdef0123456789abcdef", runType="SCHEDULED",
                       logicalDate="2026-01-01T00:00:00Z", overrideParameters={"bucket": "b", "n": 3}), id="run-everything"),
]

BAD = [
    pytest.param(_with(WORKFLOW, definitionConfigMapRef={"name": "d", "key": "k"}), "exactly one of spec.definition", id="two-definition-sources"),
    pytest.param(_with(WORKFLOW, definition=None), "exactly one of spec.definition", id="no-definition-source"),
    pytest.param(_with(WORKFLOW, roleArn="arn:aws:iam::123:role/x"), "spec.roleArn", id="role-arn-short-account"),
    pytest.param(_with(WORKFLOW, roleArn=None), "spec.roleArn", id="role-arn-missing"),
    pytest.param(_with(WORKFLOW, triggerMode="sometimes"), "spec.triggerMode", id="trigger-mode-unknown"),
    pytest.param(_with(WORKFLOW, tags={"aws:team": "x"}), "reserved prefix aws:", id="tag-key-aws-prefix"),
    pytest.param(_with(WORKFLOW, tags={"team": "AWS:x"}), "reserved prefix aws:", id="tag-value-aws-prefix"),
    pytest.param(_with(WORKFLOW, tags={"bad#key": "x"}), "tag keys are 1-128", id="tag-key-bad-character"),
    pytest.param(_with(WORKFLOW, tags={"k": "v" * 257}), "spec.tags.k", id="tag-value-too-long"),
    pytest.param(_with(WORKFLOW, tags={f"k{i}": "v" for i in range(51)}), "spec.tags", id="tags-more-than-50"),
    pytest.param(_with(WORKFLOW, encryption={"type": "CUSTOMER_MANAGED_KEY"}), "kmsKeyId is required", id="cmk-without-key"),
    pytest.param(_with(WORKFLOW, network={"securityGroupIds": ["group-1"]}), "spec.network.securityGroupIds", id="security-group-id-pattern"),
    pytest.param(_with(WORKFLOW, definition="x" * 51201), "spec.definition", id="definition-over-50kb"),
    pytest.param(_with(RUN, workflowVersion="v1"), "spec.workflowVersion", id="run-version-pattern"),
    pytest.param(_with(RUN, runType="BACKFILL"), "spec.runType", id="run-type-unknown"),
    pytest.param(_with(RUN, workflowName=None), "spec.workflowName", id="run-without-workflow"),
]


@pytest.mark.parametrize("body", GOOD)
async def test_accepted(api: object, namespace: str, body: dict) -> None:
    assert await _dry_run(api, namespace, body) is None


@pytest.mark.parametrize(("body", "fragment"), BAD)
async def test_refused_naming_the_field(api: object, namespace: str, body: dict, fragment: str) -> None:
    message = await _dry_run(api, namespace, body)
    assert message is not None, "the API server accepted an invalid object"
    assert fragment in message


async def test_versions_and_run_fields_are_immutable(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Invalid, Kube

    kube = Kube(api)
    version = {
        "apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowVersion",
        "metadata": {"name": "demo-0123456789abcdef0123456789abcdef"},
        "spec": {"workflowName": "demo", "versionId": "0123456789abcdef0123456789abcdef", "definition": "x"},
    }
    await kube.create(version, namespace)
    with pytest.raises(Invalid, match="immutable"):
        await kube.patch("WorkflowVersion", version["metadata"]["name"], namespace, {"spec": {"definition": "y"}})
    await kube.create(_with(RUN, overrideParameters={"a": 1}), namespace)
    with pytest.raises(Invalid, match="overrideParameters is immutable"):
        await kube.patch("WorkflowRun", "demo-run", namespace, {"spec": {"overrideParameters": {"a": 2}}})
    await kube.patch("WorkflowRun", "demo-run", namespace, {"spec": {"stop": True}})
    with pytest.raises(Invalid, match="cannot be resumed"):
        await kube.patch("WorkflowRun", "demo-run", namespace, {"spec": {"stop": False}})
