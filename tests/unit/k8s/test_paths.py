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


async def test_a_list_is_paged_unless_asked_for_in_one_answer() -> None:
    """Paged by default (no single answer holds everything); page_size 0 sends no limit, so the
    API server answers from its watch cache (docs/performance.md: 2.6 s against 0.36 s)."""
    from updraft.k8s.resources import Kube

    asked: list[list[tuple[str, object]]] = []
    pages = [{"items": [{"n": 1}], "metadata": {"continue": "t"}}, {"items": [{"n": 2}], "metadata": {}}]

    class Recording(Kube):
        async def _call(self, method: str, path: str, body: object = None, **kw: object) -> dict[str, object]:
            asked.append(list(kw.get("query") or []))  # type: ignore[call-overload]
            return pages[len(asked) - 1] if len(asked) <= len(pages) else {"items": []}

    kube = Recording.__new__(Recording)
    assert await kube.list("WorkflowRun", "data", {"a": "b"}) == [{"n": 1}, {"n": 2}]
    assert asked == [[("limit", 500), ("labelSelector", "a=b")], [("limit", 500), ("labelSelector", "a=b"),
                                                                  ("continue", "t")]]
    asked.clear()
    pages[:] = [{"items": [{"n": 3}], "metadata": {}}]
    assert await kube.list("WorkflowRun", "data", {"a": "b"}, page_size=0) == [{"n": 3}]
    assert asked == [[("labelSelector", "a=b")]]
