"""Chart values runner.nodeSelector/tolerations/affinity: rendered into the operator's settings
(which put them on every task pod), refused by the values schema when malformed, and read back by
the operator exactly as given. Rendered by the real Helm; skipped without it like the other chart
tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_chart_render import env_of, find, render  # noqa: E402  (the chart tests' Helm helpers)

from updraft.config import from_env  # noqa: E402

PLACEMENT = ["--set-json", 'runner.nodeSelector={"type":"kwok"}',
             "--set-json", 'runner.tolerations=[{"key":"kwok.x-k8s.io/node","operator":"Exists","effect":"NoSchedule"}]',
             "--set-json", 'runner.affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":'
                           '{"nodeSelectorTerms":[{"matchExpressions":[{"key":"type","operator":"In","values":["kwok"]}]}]}}}']


def _operator_env(*args: str) -> dict[str, str]:
    docs = render(*args)
    assert isinstance(docs, list)
    return env_of(find(docs, "Deployment", "updraft-operator")[0])


def test_no_placement_by_default():
    env = _operator_env()
    assert json.loads(env["UPDRAFT_RUNNER_NODE_SELECTOR"]) == {}
    assert json.loads(env["UPDRAFT_RUNNER_TOLERATIONS"]) == []
    assert json.loads(env["UPDRAFT_RUNNER_AFFINITY"]) == {}


def test_placement_values_reach_the_operator_settings():
    env = _operator_env(*PLACEMENT)
    settings = from_env({k: v for k, v in env.items() if v is not None})
    assert settings.runner_node_selector == {"type": "kwok"}
    assert settings.runner_tolerations == ({"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"},)
    terms = settings.runner_affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["kwok"]
    # the operator and API pods keep their own placement (operator.*/api.*), not the task pods'
    docs = render(*PLACEMENT)
    for name in ("updraft-operator", "updraft-api"):
        pod = find(docs, "Deployment", name)[0]["spec"]["template"]["spec"]
        assert "type" not in (pod.get("nodeSelector") or {})
        assert not pod.get("tolerations")


@pytest.mark.parametrize("args, message", [
    (["--set-json", "runner.nodeSelector=[]"], "/runner/nodeSelector"),
    (["--set-json", 'runner.tolerations=[{"key":"a","operator":"Maybe"}]'], "/runner/tolerations/0/operator"),
    (["--set-json", 'runner.tolerations=[{"key":"a","efect":"NoSchedule"}]'], "'efect' not allowed"),
    (["--set-json", 'runner.affinity={"nodeAfinity":{}}'], "'nodeAfinity' not allowed"),
])
def test_malformed_placement_is_refused_with_the_field_named(args, message):
    stderr = render(*args, ok=False)
    assert message in stderr


def test_pod_labels_and_annotations_reach_the_operator_settings():
    env = _operator_env("--set-json", 'runner.podLabels={"team":"data"}',
                        "--set-json", 'runner.podAnnotations={"fluentbit.io/parser":"json"}')
    settings = from_env({k: v for k, v in env.items() if v is not None})
    assert settings.runner_pod_labels == {"team": "data"}
    assert settings.runner_pod_annotations == {"fluentbit.io/parser": "json"}


@pytest.mark.parametrize("args, message", [
    (["--set-json", 'runner.podLabels={"updraft.dev/run":"x"}'], "runner.podLabels.updraft.dev/run: this key is Updraft's own"),
    (["--set-json", 'runner.podAnnotations={"a.updraft.dev/x":"x"}'], "runner.podAnnotations.a.updraft.dev/x: this key"),
    (["--set-json", 'runner.podLabels={"app.kubernetes.io/managed-by":"me"}'], "this key is Updraft's own"),
    (["--set-json", 'runner.podAnnotations={"n":1}'], "/runner/podAnnotations/n"),
])
def test_pod_metadata_on_updrafts_own_keys_or_not_strings_is_refused(args, message):
    stderr = render(*args, ok=False)
    assert message in stderr
