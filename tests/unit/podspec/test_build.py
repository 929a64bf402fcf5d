"""Task pods: the golden pod, properties every pod has (restricted PSS, names, identity), names."""

from __future__ import annotations

import random
import re
import string
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from updraft.definition.model import Task
from updraft.podspec.build import PodInputs, build_pod, definition_configmap
from updraft.model.names import dns_label, label_value, pod_name

ROLE = "arn:aws:iam::123456789012:role/etl"
TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


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


GOLDEN_ENV = [
    {"name": "AWS_ROLE_ARN", "value": ROLE},
    {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{TOKEN_DIR}/token"},
    {"name": "AWS_ROLE_SESSION_NAME", "value": "updraft-nightly-Load.Data"},
    {"name": "AWS_REGION", "value": "eu-west-1"},
    {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"},
    {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
    {"name": "HOME", "value": "/tmp"},
    {"name": "AIRFLOW_HOME", "value": "/tmp/airflow"},
    {"name": "UPDRAFT_WORKFLOW", "value": "nightly"},
    {"name": "UPDRAFT_NAMESPACE", "value": "data"},
    {"name": "UPDRAFT_RUN", "value": "nightly-s-202601010000"},
    {"name": "UPDRAFT_VERSION", "value": "a" * 32},
    {"name": "UPDRAFT_TASK_ID", "value": "Load.Data"},
    {"name": "UPDRAFT_ATTEMPT", "value": "2"},
    {"name": "UPDRAFT_RESCHEDULE", "value": "1"},
    {"name": "UPDRAFT_LOGICAL_DATE", "value": "2026-01-01T00:00:00+00:00"},
    {"name": "UPDRAFT_TASK_API_URL", "value": "http://updraft-operator.updraft-system:8081"},
    {"name": "UPDRAFT_POD_NAME", "value": "nightly-s-202601010000-load-data-0b395d4a-71d84-2-r1"},
    {"name": "UPDRAFT_DEFINITION_FILE", "value": "/etc/updraft/definition/definition.json"},
    {"name": "UPDRAFT_PARAMS", "value": '{"k":1}'},
    {"name": "UPDRAFT_FIRST_STARTED_AT", "value": "2026-01-01T00:01:00+00:00"},
    {"name": "AWS_ENDPOINT_URL", "value": "http://moto:5000"},
    {"name": "UPDRAFT_TASK_TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok-1", "key": "token"}}},
]

GOLDEN = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "nightly-s-202601010000-load-data-0b395d4a-71d84-2-r1",
        "namespace": "data",
        "labels": {"app.kubernetes.io/managed-by": "updraft", "updraft.dev/workflow": "nightly",
                   "updraft.dev/run": "nightly-s-202601010000", "updraft.dev/task": "Load.Data",
                   "updraft.dev/attempt": "2"},
        "annotations": {"updraft.dev/task-id": "Load.Data", "updraft.dev/reschedule": "1",
                        "updraft.dev/infra-retries": "0", "updraft.dev/version": "a" * 32},
        "ownerReferences": [{"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
                             "name": "nightly-s-202601010000", "uid": "uid-1", "controller": True,
                             "blockOwnerDeletion": True}],
    },
    "spec": {
        "restartPolicy": "Never",
        "serviceAccountName": "updraft-wf-nightly",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": 1215,  # 600 s of timeout + 15 s of grace + 600 s to start (image pull)
        "terminationGracePeriodSeconds": 30,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 50000, "runAsGroup": 50000, "fsGroup": 50000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "task",
            "image": "updraft/runner:1",
            "imagePullPolicy": "IfNotPresent",
            "env": GOLDEN_ENV,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                             {"name": "aws-iam-token", "mountPath": TOKEN_DIR, "readOnly": True},
                             {"name": "definition", "mountPath": "/etc/updraft/definition", "readOnly": True}],
        }],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
            {"name": "aws-iam-token", "projected": {"defaultMode": 0o440, "sources": [
                {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400,
                                         "path": "token"}}]}},
            {"name": "definition", "configMap": {"name": "nightly-" + "a" * 32 + "-definition", "defaultMode": 0o444}},
        ],
    },
}


def test_golden_pod() -> None:
    pod = build_pod(inputs(
        task=Task("Load.Data", "x", execution_timeout=timedelta(minutes=10)), reschedule=1,
        extra_env={"AWS_ENDPOINT_URL": "http://moto:5000"},
        resources={"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        task_api_url="http://updraft-operator.updraft-system:8081", definition_configmap="nightly-" + "a" * 32 + "-definition",
        params_json='{"k":1}', first_started_at=datetime(2026, 1, 1, 0, 1, tzinfo=timezone.utc)))
    assert pod == GOLDEN


def test_definition_configmap_is_immutable_and_owned_by_its_version() -> None:
    cm = definition_configmap("data", "nightly-" + "a" * 32, "v-uid", '{"nightly":{}}')
    assert cm["immutable"] is True
    assert cm["metadata"]["name"] == "nightly-" + "a" * 32 + "-definition"
    assert cm["metadata"]["ownerReferences"] == [{"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowVersion",
                                                   "name": "nightly-" + "a" * 32, "uid": "v-uid"}]
    assert cm["data"] == {"definition.json": '{"nightly":{}}'}
    # the pod mounts exactly that map and points the runner at the file
    pod = build_pod(inputs(definition_configmap=cm["metadata"]["name"]))
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "definition")
    assert volume["configMap"]["name"] == cm["metadata"]["name"]
    assert env(pod)["UPDRAFT_DEFINITION_FILE"] == "/etc/updraft/definition/definition.json"
    assert not any(v["name"] == "definition" for v in build_pod(inputs())["spec"]["volumes"])


def test_optional_parts() -> None:
    pod = build_pod(inputs(command=("updraft-runner",), node_selector={"pool": "tasks"},
                           tolerations=({"key": "tasks", "operator": "Exists", "effect": "NoSchedule"},),
                           token_secret_key="t"))
    c = pod["spec"]["containers"][0]
    assert c["command"] == ["updraft-runner"] and "args" not in c
    assert pod["spec"]["nodeSelector"] == {"pool": "tasks"}
    assert pod["spec"]["tolerations"][0]["key"] == "tasks"
    assert env(pod)["UPDRAFT_TASK_TOKEN"] == {"secretKeyRef": {"name": "tok-1", "key": "t"}}
    plain = build_pod(inputs(token_secret=None))
    assert "command" not in plain["spec"]["containers"][0]  # the image's entrypoint
    assert "nodeSelector" not in plain["spec"] and "UPDRAFT_TASK_TOKEN" not in env(plain)
    assert "UPDRAFT_FIRST_STARTED_AT" not in env(plain)


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """The Pod Security Standards "restricted" profile (v1.30), checked on a pod dict."""
    bad = []
    spec = pod["spec"]
    psc = spec.get("securityContext", {})
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= allowed_volumes:
            bad.append(f"volume type {kinds - allowed_volumes}")
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        bad.append("host namespaces")
    if psc.get("runAsUser") == 0:
        bad.append("runAsUser 0")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("privileged"):
            bad.append("privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append("allowPrivilegeEscalation")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            bad.append("capabilities")
        if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")):
            bad.append("runAsNonRoot")
        if sc.get("runAsUser") == 0:
            bad.append("runAsUser 0")
        if (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault",
                                                                                             "Localhost"):
            bad.append("seccomp")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            bad.append("hostPort")
    return bad


def test_the_checker_catches_violations() -> None:
    pod = build_pod(inputs())
    c = pod["spec"]["containers"][0]
    c["securityContext"]["allowPrivilegeEscalation"] = True
    c["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}
    pod["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}})
    pod["spec"]["hostNetwork"] = True
    assert len(restricted_violations(pod)) == 4


def env(pod: dict[str, Any]) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["spec"]["containers"][0]["env"]}


def _random_inputs(rng: random.Random) -> PodInputs:
    id_chars = string.ascii_letters + string.digits + "_.-"
    task_id = "".join(rng.choice(id_chars) for _ in range(rng.randint(1, 250)))
    run = "-".join("".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(1, 12)))
                   for _ in range(rng.randint(1, 6)))[:63]
    timeout = rng.choice([None, timedelta(seconds=rng.randint(1, 3600))])
    return inputs(run_name=run, workflow=run.split("-")[0], task=Task(task_id, "op", execution_timeout=timeout),
                  attempt=rng.randint(1, 4), reschedule=rng.choice([0, 0, rng.randint(1, 5000)]),
                  extra_env={"AWS_ENDPOINT_URL": "http://x", "HOME": "/root", "UPDRAFT_TASK_ID": "other"})


CASES = [_random_inputs(random.Random(seed)) for seed in range(300)]


def test_every_pod_is_restricted_named_and_wired() -> None:
    names = set()
    for i in CASES:
        pod = build_pod(i)
        meta, spec = pod["metadata"], pod["spec"]
        assert restricted_violations(pod) == [], i
        assert LABEL_RE.match(meta["name"]) and len(meta["name"]) <= 63, meta["name"]
        assert all(LABEL_VALUE_RE.match(v) and len(v) <= 63 for v in meta["labels"].values()), meta["labels"]
        assert meta["annotations"]["updraft.dev/task-id"] == i.task.task_id  # the raw id survives
        e = env(pod)
        assert len(e) == len(spec["containers"][0]["env"]), "an env var appears twice"
        assert (e["AWS_ROLE_ARN"], e["HOME"], e["UPDRAFT_TASK_ID"]) == (ROLE, "/tmp", i.task.task_id)
        assert e["UPDRAFT_POD_NAME"] == meta["name"]
        assert len(str(e["AWS_ROLE_SESSION_NAME"])) <= 64
        timeout = i.task.execution_timeout or timedelta(hours=1)
        assert timeout.total_seconds() + 600 < spec["activeDeadlineSeconds"] <= timeout.total_seconds() + 660
        assert spec["automountServiceAccountToken"] is False and spec["restartPolicy"] == "Never"
        assert meta["ownerReferences"][0]["controller"] is True
        names.add((meta["name"], (i.run_name, i.task.task_id, i.attempt, i.reschedule)))
    assert len({n for n, _ in names}) == len({k for _, k in names})  # distinct inputs, distinct names


def test_deadline_follows_execution_timeout_or_the_quota() -> None:
    # the pod's deadline is a backstop: it counts from startTime, image pull included, so it allows
    # START_ALLOWANCE to start; the engine enforces execution_timeout from the container's start
    assert build_pod(inputs())["spec"]["activeDeadlineSeconds"] == 615 + 600
    assert build_pod(inputs(task=Task("t", "op")))["spec"]["activeDeadlineSeconds"] == 3615 + 600


@pytest.mark.parametrize(("run", "task", "attempt", "reschedule"), [
    ("r", "t", 1, 0), ("nightly-s-202601010000", "Load.Data_Now", 3, 0), ("x" * 60, "y" * 80, 2, 5),
    ("run", "group.inner.task_with_a_very_long_name_indeed_and_more", 1, 12), ("a.b.c", "t", 1, 0),
    ("r" * 63, "T" * 250, 3, 4999), ("run", "---", 1, 0), ("run", "_", 1, 0),
])
def test_pod_names_are_valid_and_distinct(run: str, task: str, attempt: int, reschedule: int) -> None:
    name = pod_name(run, task, attempt, reschedule)
    assert LABEL_RE.match(name) and len(name) <= 63, name
    assert name == dns_label(name)
    assert name == pod_name(run, task, attempt, reschedule)
    assert name != pod_name(run, task, attempt + 1, reschedule)
    assert name != pod_name(run, task, attempt, reschedule + 1)


@pytest.mark.parametrize(("args", "expected"), [
    (("nightly-s-202601010000", "load", 1), "nightly-s-202601010000-load-4a45a-1"),
    (("chain-1", "nap_a", 1), "chain-1-nap-a-46e21884-6dc02-1"),
    (("run-1", "wait", 1, 2), "run-1-wait-493f9-1-r2"),
])
def test_pod_names_are_stable(args: tuple, expected: str) -> None:
    # the same name on every call and in every process; a run in flight across the upgrade that
    # added the hash finds its pods by the names its status recorded and by their labels
    assert pod_name(*args) == expected


def test_pod_names_of_two_runs_never_collide() -> None:
    # run `etl` + task `daily-load` and run `etl-daily` + task `load` read alike
    assert pod_name("etl", "daily-load", 1) != pod_name("etl-daily", "load", 1)


def test_folded_ids_do_not_collide() -> None:
    assert pod_name("r", "load_data", 1) != pod_name("r", "load-data", 1)
    assert pod_name("r", "Load", 1) != pod_name("r", "load", 1)
    assert label_value("a" * 70) != label_value("a" * 71) and len(label_value("a" * 70)) <= 63
    assert label_value("ok.Value_1") == "ok.Value_1"
    assert LABEL_VALUE_RE.match(label_value("-._weird/id with spaces_."))
