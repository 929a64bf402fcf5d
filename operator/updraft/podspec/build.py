"""The pod of one task attempt (pure): `build_pod(PodInputs) -> dict`.

What every task pod gets, whatever the workflow says:
- the workflow's ServiceAccount, with no Kubernetes API token mounted;
- AWS web identity wired in the pod itself (projected token for audience sts.amazonaws.com,
  AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_REGION), so it works with or without the EKS
  webhook on any cluster whose service-account issuer AWS trusts;
- restricted pod security: non-root, no privilege escalation, no capabilities, seccomp
  RuntimeDefault, read-only root with an emptyDir at /tmp, where HOME and AIRFLOW_HOME point;
- restartPolicy Never and activeDeadlineSeconds from execution_timeout (plus START_ALLOWANCE): one pod is one attempt;
- the validated definition of the run's version, mounted read-only from an immutable ConfigMap
  owned by the WorkflowVersion (`definition_configmap`; one per version, not a copy per pod);
- the runner's report in the termination message (see engine/outcome.py);
- the image's entrypoint (the runner image: `python -m updraft.runner`) unless `command` is given;
- the operator-wide placement (nodeSelector, tolerations, affinity; see podspec/placement.py), if any;
- the operator-wide extra labels and annotations (podspec/metadata.py), if any.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from updraft.definition.model import Task
from updraft.model import names

TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
TOKEN_AUDIENCE = "sts.amazonaws.com"
RUNNER_UID = 50000
DEFINITION_DIR = "/etc/updraft/definition"
DEFINITION_KEY = "definition.json"
DEADLINE_GRACE = timedelta(seconds=15)
# activeDeadlineSeconds counts from the pod's startTime, image pull and volume set-up included: the
# pod's own deadline is only a backstop (the engine enforces execution_timeout from the
# container's start), so it allows this long to start before the timeout begins to count.
START_ALLOWANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class PodInputs:
    namespace: str
    workflow: str
    run_name: str
    run_uid: str
    version: str
    task: Task
    attempt: int
    image: str
    service_account: str
    role_arn: str
    region: str
    logical_date: datetime
    reschedule: int = 0  # the n-th pod of this attempt (sensor pokes and infrastructure re-launches)
    infra_retries: int = 0  # pods of this task lost to the infrastructure so far (the engine's bound)
    image_pull_policy: str = "IfNotPresent"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    task_api_url: str = ""
    token_secret: str | None = None  # Secret holding this attempt's task-API token...
    token_secret_key: str = "token"  # ...under this key
    default_timeout: timedelta = timedelta(hours=1)
    definition_configmap: str = ""  # ConfigMap holding the validated definition (see definition_configmap)
    params_json: str = "{}"  # the run's overrideParameters
    first_started_at: datetime | None = None  # a rescheduled sensor's first start
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    affinity: Mapping[str, Any] = field(default_factory=dict)
    command: tuple[str, ...] = ()  # empty: the image's entrypoint
    extra_labels: Mapping[str, str] = field(default_factory=dict)  # operator-wide (podspec/metadata.py)
    extra_annotations: Mapping[str, str] = field(default_factory=dict)  # operator-wide, e.g. for a log agent


def labels(workflow: str, run: str, task_id: str, attempt: int) -> dict[str, str]:
    return {
        names.LABEL_MANAGED: names.MANAGED_BY,
        names.LABEL_WORKFLOW: names.label_value(workflow),
        names.LABEL_RUN: names.label_value(run),
        names.LABEL_TASK: names.label_value(task_id),
        names.LABEL_ATTEMPT: str(attempt),
    }


def _env(i: PodInputs) -> list[dict[str, Any]]:
    plain = {
        "AWS_ROLE_ARN": i.role_arn,
        "AWS_WEB_IDENTITY_TOKEN_FILE": f"{TOKEN_DIR}/token",
        "AWS_ROLE_SESSION_NAME": names.label_value(f"updraft-{i.workflow}-{i.task.task_id}")[:64],
        "AWS_REGION": i.region,
        "AWS_DEFAULT_REGION": i.region,
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        "HOME": "/tmp",  # the root filesystem is read-only: everything written goes to the emptyDir
        "AIRFLOW_HOME": "/tmp/airflow",
        "UPDRAFT_WORKFLOW": i.workflow,
        "UPDRAFT_NAMESPACE": i.namespace,
        "UPDRAFT_RUN": i.run_name,
        "UPDRAFT_VERSION": i.version,
        "UPDRAFT_TASK_ID": i.task.task_id,
        "UPDRAFT_ATTEMPT": str(i.attempt),
        "UPDRAFT_RESCHEDULE": str(i.reschedule),
        "UPDRAFT_LOGICAL_DATE": i.logical_date.isoformat(),
        "UPDRAFT_TASK_API_URL": i.task_api_url,
        "UPDRAFT_POD_NAME": names.pod_name(i.run_name, i.task.task_id, i.attempt, i.reschedule),
        "UPDRAFT_DEFINITION_FILE": f"{DEFINITION_DIR}/{DEFINITION_KEY}" if i.definition_configmap else "",
        "UPDRAFT_PARAMS": i.params_json,
    }
    if i.first_started_at is not None:
        plain["UPDRAFT_FIRST_STARTED_AT"] = i.first_started_at.isoformat()
    # operator-wide extras (e.g. AWS_ENDPOINT_URL) may not override the identity wiring
    for k, v in i.extra_env.items():
        plain.setdefault(k, v)
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    if i.token_secret:
        env.append({"name": "UPDRAFT_TASK_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": i.token_secret, "key": i.token_secret_key}}})
    return env


def build_pod(i: PodInputs) -> dict[str, Any]:
    name = names.pod_name(i.run_name, i.task.task_id, i.attempt, i.reschedule)
    timeout = i.task.execution_timeout or i.default_timeout
    container: dict[str, Any] = {
        "name": "task",
        "image": i.image,
        "imagePullPolicy": i.image_pull_policy,
        "env": _env(i),
        "resources": {k: dict(v) for k, v in i.resources.items()},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "aws-iam-token", "mountPath": TOKEN_DIR, "readOnly": True},
        ],
    }
    if i.definition_configmap:
        container["volumeMounts"].append({"name": "definition", "mountPath": DEFINITION_DIR, "readOnly": True})
    if i.command:
        container["command"] = list(i.command)
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": i.service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": int(math.ceil((timeout + DEADLINE_GRACE + START_ALLOWANCE).total_seconds())),
        "terminationGracePeriodSeconds": 30,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUNNER_UID,
            "runAsGroup": RUNNER_UID,
            "fsGroup": RUNNER_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
            {"name": "aws-iam-token", "projected": {"defaultMode": 0o440, "sources": [
                {"serviceAccountToken": {"audience": TOKEN_AUDIENCE, "expirationSeconds": 86400, "path": "token"}}]}},
        ],
    }
    if i.definition_configmap:
        spec["volumes"].append({"name": "definition", "configMap": {"name": i.definition_configmap, "defaultMode": 0o444}})
    if i.node_selector:
        spec["nodeSelector"] = dict(i.node_selector)
    if i.tolerations:
        spec["tolerations"] = [dict(t) for t in i.tolerations]
    if i.affinity:
        spec["affinity"] = copy.deepcopy(dict(i.affinity))  # nested: no pod shares the settings' objects
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": i.namespace,
            # the operator-wide extras never replace Updraft's own keys
            "labels": {**i.extra_labels, **labels(i.workflow, i.run_name, i.task.task_id, i.attempt)},
            "annotations": {**i.extra_annotations,
                            names.ANNOTATION_TASK_ID: i.task.task_id,
                            names.ANNOTATION_RESCHEDULE: str(i.reschedule),
                            names.ANNOTATION_INFRA_RETRIES: str(i.infra_retries),
                            "updraft.dev/version": i.version},
            "ownerReferences": [names.owner_ref("WorkflowRun", i.run_name, i.run_uid, controller=True,
                                                block_owner_deletion=True)],
        },
        "spec": spec,
    }


def definition_configmap(namespace: str, version_object: str, version_uid: str, definition_json: str) -> dict[str, Any]:
    """The immutable ConfigMap task pods of one version mount their definition from (the validated,
    dag-factory form as JSON). Owned by the WorkflowVersion, so it goes when the version is pruned.
    A ConfigMap rather than an environment variable: a definition of up to 50 KB, expanded to
    every task, can pass the kernel's 128 KiB limit on one variable, and would be copied into
    every pod object."""
    return {
        "apiVersion": "v1", "kind": "ConfigMap", "immutable": True,
        "metadata": {"name": names.definition_configmap_name(version_object), "namespace": namespace,
                     "labels": {names.LABEL_MANAGED: names.MANAGED_BY},
                     "ownerReferences": [names.owner_ref("WorkflowVersion", version_object, version_uid)]},
        "data": {DEFINITION_KEY: definition_json},
    }
