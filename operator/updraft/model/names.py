"""Every deterministic name and label Updraft gives an object (pure).

Names are derived from what identifies the object (a workflow, a version, a fire time, a request,
a run + task + attempt), so creating one twice is harmless and a restarted operator or a second
replica finds what the first one made. Kubernetes names and labels are narrower than the ids they
carry (task ids may hold capitals, '_' and '.'): ids are folded, with a short hash whenever folding
or truncating could make two of them collide.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from typing import Any, Mapping

GROUP, VERSION = "updraft.dev", "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

LABEL_WORKFLOW = "updraft.dev/workflow"
LABEL_RUN = "updraft.dev/run"
LABEL_TASK = "updraft.dev/task"
LABEL_ATTEMPT = "updraft.dev/attempt"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_BY = "updraft"
ANNOTATION_TASK_ID = "updraft.dev/task-id"
ANNOTATION_RESCHEDULE = "updraft.dev/reschedule"
ANNOTATION_INFRA_RETRIES = "updraft.dev/infra-retries"  # a task pod: its task's infrastructure re-launches so far
ANNOTATION_SCHEDULED_TIME = "updraft.dev/scheduled-time"
ANNOTATION_API_NAME = "updraft.dev/workflow-name"  # a workflow's API name when Kubernetes cannot hold it
# what the API compiled for a spec (JSON: source digest, S3 VersionId read, version id)
ANNOTATION_COMPILED = "updraft.dev/compiled"
ANNOTATION_TASK_API_CA = "updraft.dev/task-api-ca"  # the CA task pods verify the task API with (PEM)
# a task pod: its runner's outcome as reported through the task API before it exits (JSON, the
# termination message's contract: engine/outcome.py), written once by the task API (taskapi/reports.py)
ANNOTATION_REPORT = "updraft.dev/report"

MAX_LABEL = 63
_INVALID = re.compile(r"[^a-z0-9-]+")


def _digest(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


# -- folding ------------------------------------------------------------------------------------

def dns_label(text: str, max_len: int = MAX_LABEL) -> str:
    """`text` as a DNS-1123 label; a hash is appended whenever the text had to change."""
    folded = _INVALID.sub("-", text.lower()).strip("-") or "x"
    if folded == text and len(folded) <= max_len:
        return folded
    digest = _digest(text)
    return f"{folded[: max_len - len(digest) - 1].rstrip('-')}-{digest}"


def label_value(text: str) -> str:
    """A valid label value (<= 63, alphanumerics plus - _ .), hash-shortened when needed."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    if cleaned == text and len(text) <= MAX_LABEL:
        return text
    digest = _digest(text)
    return f"{cleaned[: MAX_LABEL - 9].rstrip('-._')}-{digest}".lstrip("-")


# -- workflows and what they own ----------------------------------------------------------------

def workflow_object_name(api_name: str) -> str:
    """The Kubernetes name of the workflow an API caller calls `api_name`: the name itself when it
    is a DNS label already, else a folded form with a hash of the original (never colliding)."""
    return dns_label(api_name)


def identity_name(workflow: str) -> str:
    """The workflow's ServiceAccount, NetworkPolicy and SecurityGroupPolicy: `updraft-wf-<workflow>`,
    a DNS label, hash-shortened when long (what a role's trust policy names)."""
    return dns_label(f"updraft-wf-{workflow}")


def version_object_name(workflow: str, version_id: str) -> str:
    """The WorkflowVersion `<workflow>-<version id>` (the id is 32 hex characters of its content)."""
    return f"{workflow}-{version_id}"


def definition_configmap_name(version_object: str) -> str:
    """The ConfigMap task pods read a version's definition from: `<WorkflowVersion name>-definition`."""
    return f"{version_object}-definition"


def workflow_labels(workflow: str) -> dict[str, str]:
    return {LABEL_MANAGED: MANAGED_BY, LABEL_WORKFLOW: label_value(workflow)}


# -- runs ---------------------------------------------------------------------------------------

MAX_RUN_NAME = 63  # a DNS label, so the name also works where a label value or a pod prefix is needed
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")


def scheduled_run_name(workflow: str, fire_time: datetime) -> str:
    """`<workflow>-s-<YYYYMMDDHHMM>`, the fire time in UTC (cron fire times are whole minutes).

    The result is a lowercase DNS label of at most 63 characters. A workflow name that is already
    a short DNS label is kept as is; otherwise (too long, or with dots or capitals) it is cut and
    given 8 hex digits of its SHA-256, so distinct workflows never share run names."""
    if fire_time.tzinfo is None or fire_time.utcoffset() is None:
        raise ValueError("fire_time must be timezone-aware")
    stamp = fire_time.astimezone(timezone.utc).strftime("%Y%m%d%H%M")
    return _with_suffix(workflow, f"-s-{stamp}")


def manual_run_name(workflow: str, request_key: str) -> str:
    """`<workflow>-m-<12 hex>` for a run started on request: the hex is derived from `request_key`
    (the API's ClientToken with the workflow's uid), so a retried request names the same run and
    cannot start a second one. Same length and folding rules as scheduled_run_name."""
    return _with_suffix(workflow, "-m-" + hashlib.sha256(request_key.encode()).hexdigest()[:12])


def _with_suffix(workflow: str, suffix: str) -> str:
    room = MAX_RUN_NAME - len(suffix)
    cleaned = _NOT_LABEL.sub("-", workflow.lower()).strip("-")
    if cleaned == workflow and 0 < len(workflow) <= room:
        return workflow + suffix
    digest = hashlib.sha256(workflow.encode()).hexdigest()[:8]
    head = cleaned[: room - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}" if head else f"w-{digest}{suffix}"


def run_labels(workflow: str, run: str) -> dict[str, str]:
    return {LABEL_MANAGED: MANAGED_BY, LABEL_RUN: label_value(run), LABEL_WORKFLOW: label_value(workflow)}


def run_selector(run: str) -> dict[str, str]:
    """The label selector of everything made for one run (pods, token Secrets)."""
    return {LABEL_RUN: label_value(run)}


def xcom_configmap_name(run: str) -> str:
    return f"{run}-xcom"[:253]


def task_instance_id(run_id: str, task_id: str) -> str:
    """Stable id of a task instance within a run (the API's TaskInstanceId)."""
    return f"{run_id}.{task_id}"


# -- task logs (CloudWatch Logs) ------------------------------------------------------------------

ENV_LOG_GROUP = "UPDRAFT_LOG_GROUP"  # the task pod's log group: unset, the runner ships nothing
ENV_LOG_STREAM = "UPDRAFT_LOG_STREAM"  # the task pod's log stream (one per attempt)
MAX_LOG_STREAM = 512  # CloudWatch Logs' limit on a stream name (':' and '*' are refused too)


def workflow_id(api_name: str, uid: str) -> str:
    """The workflow id of its ARN, `<API name>-<10 characters from the uid>` (arns.py builds the
    ARN from it), which MWAA Serverless uses in log group and stream names."""
    return f"{api_name}-{hashlib.sha256(uid.encode()).hexdigest()[:10]}"


def default_log_group(workflow_id: str) -> str:
    """The group a workflow's task logs go to when `spec.logging` names none, as MWAA Serverless
    names it ("/aws/mwaa-serverless/<workflow id>/")."""
    return f"/aws/mwaa-serverless/{workflow_id}/"


def log_stream(workflow_id: str, run_id: str, task_id: str, attempt: int) -> str:
    """As MWAA Serverless names task log streams: one per attempt. Run names are DNS names and task
    ids `[A-Za-z0-9_.-]`, so only the length can break CloudWatch's rule (1-512 characters): an
    over-long workflow id is shortened with a hash, keeping the name unique and stable."""
    tail = f"/run_id={run_id}/task_id={task_id}/attempt={attempt}.log"
    name = f"workflow_id={workflow_id}{tail}"
    if len(name) <= MAX_LOG_STREAM:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    room = max(1, MAX_LOG_STREAM - len(tail) - len("workflow_id=") - len(digest) - 1)
    return f"workflow_id={workflow_id[:room]}-{digest}{tail}"[:MAX_LOG_STREAM]


# -- task attempts ------------------------------------------------------------------------------

def pod_name(run: str, task_id: str, attempt: int, reschedule: int = 0) -> str:
    """`<run>-<task>-<hash>-<attempt>[-r<n>]`: a DNS-1123 label of at most 63 characters.

    `<hash>` (5 hex digits of the run and the task id, kept apart) makes the name unambiguous:
    run `etl` with task `daily-load` and run `etl-daily` with task `load` read alike but get two
    names, so one run can never take another's pod as its own. `-r<n>` is the n-th re-launch
    within the attempt (a sensor's next poke, or a pod lost to the infrastructure): every pod the
    engine ever asks for has a name of its own, and a name is never created twice.

    The task part is folded to at most 40 characters (with a hash when it changed); the run part
    takes the room left, hash-shortened when it does not fit (or holds '.', which a run name
    may and a label may not). A run name that fits is kept as is, so names stay readable."""
    tail = f"-{_digest(run + chr(10) + task_id, 5)}-{attempt}" + (f"-r{reschedule}" if reschedule else "")
    task = dns_label(task_id, 40)
    head_room = MAX_LABEL - len(tail) - len(task) - 1
    if len(run) <= head_room and _INVALID.search(run) is None and run.strip("-") == run:
        head = run
    else:
        folded = _INVALID.sub("-", run.lower()).strip("-")
        head = f"{folded[: max(head_room - 9, 0)].rstrip('-')}-{_digest(run)}".lstrip("-")
    return f"{head}-{task}{tail}"


def token_secret_name(pod: str) -> str:
    """The Secret holding one attempt's task-API token."""
    return f"{pod}-token"


# -- XCom entries in the run's ConfigMap --------------------------------------------------------

def xcom_entry_key(task_id: str, key: str) -> str:
    """The ConfigMap key of one XCom entry. ConfigMap keys allow [-._a-zA-Z0-9]; anything else is
    base64url-encoded behind a `b64.` prefix."""
    raw = f"{task_id}.{key}"
    if all(c.isalnum() or c in "-._" for c in raw):
        return raw
    return "b64." + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def xcom_entries_of_task(data: Mapping[str, str], task_id: str) -> dict[str, str]:
    """The XCom entries of one task in a run's XCom ConfigMap data: key -> JSON text."""
    out: dict[str, str] = {}
    prefix = f"{task_id}."
    for raw_key, value in data.items():
        key = raw_key
        if raw_key.startswith("b64."):
            encoded = raw_key[4:]
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        if key.startswith(prefix):
            out[key[len(prefix):]] = value
    return out


# -- ownership ----------------------------------------------------------------------------------

def owner_ref(kind: str, name: str, uid: str, *, controller: bool = False,
              block_owner_deletion: bool = False) -> dict[str, Any]:
    """An ownerReference to one of Updraft's own objects (Workflow, WorkflowVersion, WorkflowRun):
    Kubernetes deletes the owned object with its owner."""
    ref: dict[str, Any] = {"apiVersion": API_VERSION, "kind": kind, "name": name, "uid": uid}
    if controller:
        ref["controller"] = True
    if block_owner_deletion:
        ref["blockOwnerDeletion"] = True
    return ref
