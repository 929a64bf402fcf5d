"""The CA a task pod verifies the task API's certificate with (pure), kept apart from build.py.

Task pods run in the workflows' namespaces and cannot mount a Secret or ConfigMap of the
operator's, so the operator puts the CA (a public certificate) in the pod's annotation and the
downward API projects it to a read-only file, `CA_FILE`, which the runner's XCom client reads
(`UPDRAFT_TASK_API_CA_FILE`). No object to copy into every namespace, and a pod made after a CA
rotation gets the new CA."""

from __future__ import annotations

import copy
from typing import Any

from updraft.model import names

CA_DIR = "/etc/updraft/task-api-ca"
CA_FILE = f"{CA_DIR}/ca.crt"
CA_FILE_ENV = "UPDRAFT_TASK_API_CA_FILE"
VOLUME = "task-api-ca"


def with_task_api_ca(pod: dict[str, Any], ca_pem: str) -> dict[str, Any]:
    """A copy of `pod` (from build.build_pod) whose containers trust `ca_pem` for the task API."""
    out = copy.deepcopy(pod)
    out["metadata"].setdefault("annotations", {})[names.ANNOTATION_TASK_API_CA] = ca_pem
    spec = out["spec"]
    spec.setdefault("volumes", []).append({"name": VOLUME, "downwardAPI": {"defaultMode": 0o444, "items": [
        {"path": "ca.crt", "fieldRef": {"fieldPath": f"metadata.annotations['{names.ANNOTATION_TASK_API_CA}']"}}]}})
    for container in spec["containers"]:
        container.setdefault("volumeMounts", []).append({"name": VOLUME, "mountPath": CA_DIR, "readOnly": True})
        container.setdefault("env", []).append({"name": CA_FILE_ENV, "value": CA_FILE})
    return out
