"""Task pods: names, identity wiring, restricted security, deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from updraft.definition.model import Task
from updraft.podspec.build import PodInputs, build_pod
from updraft.podspec.naming import dns_label, label_value, pod_name

ROLE = "arn:aws:iam::123456789012:role/etl"


def inputs(**kw: object) -> PodInputs:
    base: dict[str, object] = dict(
        namespace="data", workflow="nightly", run_name="nightly-s-202601010000", run_uid="uid-1", version="a" * 32,
        task=Task("load_data", "airflow.providers.amazon.aws.operators.s3.S3ListOperator",
                  execution_timeout=timedelta(minutes=10)),
        attempt=2, image="updraft/runner:1", service_account="updraft-wf-nightly", role_arn=ROLE, region="eu-west-1",
        logical_date=datetime(2026, 1, 1, tzinfo=timezone.utc), extra_env={"AWS_ENDPOINT_URL": "http://moto:5000",
                                                                             "AWS_ROLE_ARN": "arn:evil"},
        resources={"requests": {"cpu": "100m"}}, token_secret="tok-1",
    )
    base.update(kw)
    return PodInputs(**base)  # type: ignore[arg-type]


def restricted_violations(pod: dict) -> list[str]:
    """The Pod Security Standards 'restricted' profile, checked on a pod dict."""
    bad = []
    spec = pod["spec"]
    psc = spec.get("securityContext", {})
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append("allowPrivilegeEscalation")
        if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
            bad.append("capabilities")
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            bad.append("runAsNonRoot")
        if (sc.get("seccompProfile") or psc.get("seccompProfile", {})).get("type") != "RuntimeDefault":
            bad.append("seccomp")
        if sc.get("privileged"):
            bad.append("privileged")
    for v in spec.get("volumes", []):
        if "hostPath" in v:
            bad.append("hostPath")
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        bad.append("host namespaces")
    return bad


def env(pod: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["spec"]["containers"][0]["env"]}


def test_identity_and_security() -> None:
    pod = build_pod(inputs())
    spec = pod["spec"]
    assert restricted_violations(pod) == []
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "updraft-wf-nightly"
    assert spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    token = spec["volumes"][1]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["audience"] == "sts.amazonaws.com"
    e = env(pod)
    assert e["AWS_ROLE_ARN"] == ROLE  # extra env cannot override the identity
    assert e["AWS_WEB_IDENTITY_TOKEN_FILE"] == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    assert e["AWS_REGION"] == "eu-west-1" and e["AWS_ENDPOINT_URL"] == "http://moto:5000"
    assert e["UPDRAFT_TASK_TOKEN"] == {"secretKeyRef": {"name": "tok-1", "key": "token"}}
    assert {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]} >= {"/tmp"}


def test_deadline_follows_execution_timeout_or_the_quota() -> None:
    assert build_pod(inputs())["spec"]["activeDeadlineSeconds"] == 615
    untimed = Task("t", "op")
    assert build_pod(inputs(task=untimed))["spec"]["activeDeadlineSeconds"] == 3615


def test_names_labels_owner() -> None:
    pod = build_pod(inputs())
    meta = pod["metadata"]
    assert meta["name"] == pod_name("nightly-s-202601010000", "load_data", 2)
    assert meta["labels"]["updraft.dev/attempt"] == "2"
    assert meta["annotations"]["updraft.dev/task-id"] == "load_data"
    assert meta["ownerReferences"][0]["kind"] == "WorkflowRun" and meta["ownerReferences"][0]["uid"] == "uid-1"


@pytest.mark.parametrize(("run", "task", "attempt", "reschedule"), [
    ("r", "t", 1, 0), ("nightly-s-202601010000", "Load.Data_Now", 3, 0), ("x" * 60, "y" * 80, 2, 5),
    ("run", "group.inner.task_with_a_very_long_name_indeed_and_more", 1, 12),
])
def test_pod_names_are_valid_and_distinct(run: str, task: str, attempt: int, reschedule: int) -> None:
    name = pod_name(run, task, attempt, reschedule)
    assert len(name) <= 63 and name == dns_label(name)
    assert name == pod_name(run, task, attempt, reschedule)
    assert name != pod_name(run, task, attempt + 1, reschedule)
    assert name != pod_name(run, task, attempt, reschedule + 1)


def test_folded_ids_do_not_collide() -> None:
    assert pod_name("r", "load_data", 1) != pod_name("r", "load-data", 1)
    assert label_value("a" * 70) != label_value("a" * 71) and len(label_value("a" * 70)) <= 63
