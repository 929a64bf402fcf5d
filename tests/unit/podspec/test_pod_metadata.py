"""Extra labels and annotations of task pods (chart runner.podLabels/podAnnotations): read from
the environment the chart sets, checked at start-up with errors naming the field and the rule,
never allowed to touch Updraft's own keys, and put on every task pod by the pure builder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from updraft.config import ConfigError, from_env
from updraft.model import names
from updraft.podspec.build import build_pod

sys.path.insert(0, str(Path(__file__).parent))
from test_placement import inputs  # noqa: E402  (the placement tests' pod inputs)


def test_no_extras_by_default():
    s = from_env({})
    assert (s.runner_pod_labels, s.runner_pod_annotations) == ({}, {})
    pod = build_pod(inputs(extra_labels=s.runner_pod_labels, extra_annotations=s.runner_pod_annotations))
    assert set(pod["metadata"]["labels"]) == {names.LABEL_MANAGED, names.LABEL_WORKFLOW, names.LABEL_RUN,
                                              names.LABEL_TASK, names.LABEL_ATTEMPT}


def test_extras_reach_every_task_pod_beside_updrafts_own_keys():
    s = from_env({"UPDRAFT_RUNNER_POD_LABELS": json.dumps({"team": "data", "cost.example.com/center": "42"}),
                  "UPDRAFT_RUNNER_POD_ANNOTATIONS": json.dumps({"fluentbit.io/parser": "json",
                                                                "note": "multi\nline {x}"})})
    for attempt in (1, 2):
        meta = build_pod(inputs(attempt=attempt, extra_labels=s.runner_pod_labels,
                                extra_annotations=s.runner_pod_annotations))["metadata"]
        assert meta["labels"]["team"] == "data" and meta["labels"]["cost.example.com/center"] == "42"
        assert meta["labels"][names.LABEL_RUN] == "nightly-m-1"
        assert meta["labels"][names.LABEL_MANAGED] == names.MANAGED_BY
        assert meta["annotations"]["fluentbit.io/parser"] == "json"
        assert meta["annotations"]["note"] == "multi\nline {x}"
        assert meta["annotations"][names.ANNOTATION_TASK_ID] == "t1"


@pytest.mark.parametrize("env, message", [
    ({"UPDRAFT_RUNNER_POD_LABELS": "[]"}, "UPDRAFT_RUNNER_POD_LABELS: expected an object"),
    ({"UPDRAFT_RUNNER_POD_LABELS": '{"team": "a b"}'}, r"UPDRAFT_RUNNER_POD_LABELS\.team: value 'a b'"),
    ({"UPDRAFT_RUNNER_POD_LABELS": '{"updraft.dev/run": "x"}'}, "key 'updraft.dev/run' is Updraft's own"),
    ({"UPDRAFT_RUNNER_POD_LABELS": '{"app.kubernetes.io/managed-by": "me"}'}, "is Updraft's own"),
    ({"UPDRAFT_RUNNER_POD_ANNOTATIONS": '{"x.updraft.dev/a": "1"}'}, "key 'x.updraft.dev/a' is Updraft's own"),
    ({"UPDRAFT_RUNNER_POD_ANNOTATIONS": '{"retries": 3}'}, r"UPDRAFT_RUNNER_POD_ANNOTATIONS\.retries: the value must be a string"),
    ({"UPDRAFT_RUNNER_POD_ANNOTATIONS": '{"bad key": "v"}'}, "key 'bad key'"),
    ({"UPDRAFT_RUNNER_POD_ANNOTATIONS": json.dumps({"big": "x" * 300_000})}, "Kubernetes allows at most 262144"),
])
def test_malformed_extras_are_refused_at_start_naming_the_field(env, message):
    with pytest.raises(ConfigError, match=message):
        from_env(env)
