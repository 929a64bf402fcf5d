"""Object paths of the Kubernetes adapter: names go into the URL only when they can name an object."""

from __future__ import annotations

import pytest

from updraft.k8s.resources import KINDS, NotFound


def test_paths_of_namespaced_and_cluster_objects() -> None:
    assert KINDS["WorkflowVersion"].path("data", "nightly-" + "a" * 32) == \
        "/apis/updraft.dev/v1alpha1/namespaces/data/workflowversions/nightly-" + "a" * 32
    assert KINDS["Pod"].path("data") == "/api/v1/namespaces/data/pods"
    assert KINDS["Namespace"].path(None, "team-a") == "/api/v1/namespaces/team-a"
    assert KINDS["WorkflowRun"].path("data", "r.1", "status") == \
        "/apis/updraft.dev/v1alpha1/namespaces/data/workflowruns/r.1/status"


@pytest.mark.parametrize("name", ["..", "a/../../secrets", "x?watch=true", "a/b", "Upper", "", "-a", "a..b", "a" * 254])
def test_a_name_that_cannot_be_an_object_never_reaches_the_url(name: str) -> None:
    with pytest.raises(NotFound, match="not a valid object name"):
        KINDS["WorkflowVersion"].path("data", name)
    with pytest.raises(NotFound):
        KINDS["Pod"].path(name)
