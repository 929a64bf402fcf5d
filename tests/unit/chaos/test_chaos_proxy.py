"""The fault proxy's choice of which writes a targeted kill follows."""

import json

from proxy import status_body, write_kind, written_name


def test_the_targeted_writes_are_told_apart_from_other_calls() -> None:
    assert write_kind("POST", "/api/v1/namespaces/ns/secrets") == "secret-create"
    assert write_kind("POST", "/api/v1/namespaces/ns/pods") == "pod-create"
    assert write_kind("PATCH", "/apis/updraft.dev/v1alpha1/namespaces/ns/workflowruns/r-1/status") == "run-status-patch"
    assert write_kind("DELETE", "/api/v1/namespaces/ns/pods/p-1") == "pod-delete"
    assert write_kind("PATCH", "/apis/updraft.dev/v1alpha1/namespaces/ns/workflowruns/r-1") is None
    assert write_kind("GET", "/api/v1/namespaces/ns/pods") is None
    assert write_kind("DELETE", "/api/v1/namespaces/ns/secrets/p-1-token") is None


def test_the_timeline_names_what_was_written() -> None:
    assert written_name("pod-create", "/api/v1/namespaces/ns/pods", b'{"metadata": {"name": "p-1"}}') == "p-1"
    assert written_name("run-status-patch", "/apis/updraft.dev/v1alpha1/namespaces/ns/workflowruns/r-1/status",
                        b"{}") == "r-1"
    assert written_name("pod-delete", "/api/v1/namespaces/ns/pods/p-1", b"") == "p-1"


def test_an_injected_error_is_a_kubernetes_status_the_client_understands() -> None:
    body = json.loads(status_body(429, "slow down"))
    assert (body["kind"], body["code"], body["reason"]) == ("Status", 429, "TooManyRequests")
