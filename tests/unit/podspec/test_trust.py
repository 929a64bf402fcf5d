"""The task API's CA reaches the task pod as a read-only file (podspec/trust.py), the pod stays
within the restricted profile, and build_pod's own pod is left as it was."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

from updraft.model.names import ANNOTATION_TASK_API_CA
from updraft.podspec.build import build_pod
from updraft.podspec.trust import CA_DIR, CA_FILE, CA_FILE_ENV, with_task_api_ca

# the pod inputs and the restricted-profile checker of test_build.py (import mode importlib: by path)
_spec = importlib.util.spec_from_file_location("podspec_test_build", Path(__file__).with_name("test_build.py"))
assert _spec is not None and _spec.loader is not None
test_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(test_build)
inputs, restricted_violations = test_build.inputs, test_build.restricted_violations

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_the_ca_is_projected_from_the_pods_annotation_into_a_file() -> None:
    pod = build_pod(inputs())
    before = copy.deepcopy(pod)
    trusted = with_task_api_ca(pod, PEM)
    assert pod == before  # a copy: the built pod is not changed
    assert trusted["metadata"]["annotations"][ANNOTATION_TASK_API_CA] == PEM
    volume = trusted["spec"]["volumes"][-1]
    assert volume["downwardAPI"]["items"] == [
        {"path": "ca.crt", "fieldRef": {"fieldPath": f"metadata.annotations['{ANNOTATION_TASK_API_CA}']"}}]
    (container,) = trusted["spec"]["containers"]
    assert {"name": volume["name"], "mountPath": CA_DIR, "readOnly": True} in container["volumeMounts"]
    assert {"name": CA_FILE_ENV, "value": CA_FILE} in container["env"]
    assert restricted_violations(trusted) == []
