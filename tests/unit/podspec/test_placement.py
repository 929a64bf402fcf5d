"""Where task pods run: the operator-wide nodeSelector/tolerations/affinity, read from the
environment the chart sets, checked at start-up with errors naming the field, and put on every
task pod by the pure builder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from updraft.config import ConfigError, from_env
from updraft.definition.model import Task
from updraft.podspec import placement
from updraft.podspec.build import PodInputs, build_pod

KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
ZONE_AFFINITY = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]}]}]}}}


def inputs(**kw: object) -> PodInputs:
    base: dict[str, object] = dict(
        namespace="data", workflow="nightly", run_name="nightly-m-1", run_uid="uid-1", version="a" * 32,
        task=Task("t1", "airflow.providers.standard.operators.empty.EmptyOperator",
                  execution_timeout=timedelta(minutes=1)),
        attempt=1, image="updraft/runner:1", service_account="updraft-wf-nightly",
        role_arn="arn:aws:iam::123456789012:role/etl", region="us-east-1",
        logical_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    base.update(kw)
    return PodInputs(**base)  # type: ignore[arg-type]


def test_settings_default_to_no_placement_and_pods_carry_none():
    s = from_env({})
    assert (s.runner_node_selector, s.runner_tolerations, s.runner_affinity) == ({}, (), {})
    spec = build_pod(inputs(node_selector=s.runner_node_selector, tolerations=s.runner_tolerations,
                            affinity=s.runner_affinity))["spec"]
    assert not {"nodeSelector", "tolerations", "affinity"} & set(spec)


def test_chart_variables_reach_every_task_pod():
    s = from_env({"UPDRAFT_RUNNER_NODE_SELECTOR": json.dumps({"type": "kwok"}),
                  "UPDRAFT_RUNNER_TOLERATIONS": json.dumps([KWOK_TOLERATION]),
                  "UPDRAFT_RUNNER_AFFINITY": json.dumps(ZONE_AFFINITY)})
    assert s.runner_node_selector == {"type": "kwok"}
    assert s.runner_tolerations == (KWOK_TOLERATION,)
    assert s.runner_affinity == ZONE_AFFINITY
    pods = [build_pod(inputs(attempt=a, node_selector=s.runner_node_selector, tolerations=s.runner_tolerations,
                             affinity=s.runner_affinity)) for a in (1, 2)]
    for pod in pods:
        assert pod["spec"]["nodeSelector"] == {"type": "kwok"}
        assert pod["spec"]["tolerations"] == [KWOK_TOLERATION]
        assert pod["spec"]["affinity"] == ZONE_AFFINITY
    # each pod has its own copy: changing one pod body (as a client may) leaves the settings alone
    pods[0]["spec"]["affinity"]["nodeAffinity"].clear()
    assert pods[1]["spec"]["affinity"] == ZONE_AFFINITY == s.runner_affinity


@pytest.mark.parametrize("env, message", [
    ({"UPDRAFT_RUNNER_NODE_SELECTOR": "[]"}, "UPDRAFT_RUNNER_NODE_SELECTOR: expected an object"),
    ({"UPDRAFT_RUNNER_NODE_SELECTOR": '{"type": 1}'}, r"UPDRAFT_RUNNER_NODE_SELECTOR\.type: value 1"),
    ({"UPDRAFT_RUNNER_NODE_SELECTOR": '{"bad key!": "x"}'}, "key 'bad key!'"),
    ({"UPDRAFT_RUNNER_NODE_SELECTOR": '{"Bad_Prefix/x": "y"}'}, "prefix must be a DNS subdomain"),
    ({"UPDRAFT_RUNNER_NODE_SELECTOR": "{"}, "UPDRAFT_RUNNER_NODE_SELECTOR: not valid JSON"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": "{}"}, "UPDRAFT_RUNNER_TOLERATIONS: expected a list"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"key": "a", "operator": "Maybe"}]'},
     r"UPDRAFT_RUNNER_TOLERATIONS\[0\]\.operator: 'Maybe' must be one of"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"operator": "Equal", "value": "x"}]'}, "empty key .* needs operator Exists"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"key": "a", "operator": "Exists", "value": "x"}]'},
     r"\[0\]\.value: must be empty with operator Exists"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"key": "a", "effect": "NoRun"}]'}, r"\[0\]\.effect: 'NoRun'"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}]'},
     "only allowed with effect NoExecute"),
    ({"UPDRAFT_RUNNER_TOLERATIONS": '[{"key": "a", "opertor": "Exists"}]'}, r"unknown field\(s\) \['opertor'\]"),
    ({"UPDRAFT_RUNNER_AFFINITY": '{"nodeAfinity": {}}'}, r"UPDRAFT_RUNNER_AFFINITY: unknown field\(s\)"),
    ({"UPDRAFT_RUNNER_AFFINITY": '{"nodeAffinity": []}'}, r"UPDRAFT_RUNNER_AFFINITY\.nodeAffinity: expected an object"),
    ({"UPDRAFT_RUNNER_AFFINITY": json.dumps({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": []}}})}, "non-empty nodeSelectorTerms"),
    ({"UPDRAFT_RUNNER_AFFINITY": json.dumps({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "z", "operator": "In"}]}]}}})},
     r"nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.values: must not be empty with operator In"),
    ({"UPDRAFT_RUNNER_AFFINITY": json.dumps({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 0, "preference": {}}]}})}, r"\[0\]\.weight: expected an integer from 1 to 100"),
])
def test_bad_placement_is_refused_naming_the_variable_and_field(env, message):
    with pytest.raises(ConfigError, match=message):
        from_env(env)


def test_valid_forms_pass_unchanged():
    tolerations = [{"operator": "Exists"},  # every taint
                   {"key": "spot", "operator": "Equal", "value": "true", "effect": "NoExecute", "tolerationSeconds": 30},
                   {"key": "gpu", "value": "a100"}]  # operator defaults to Equal
    assert placement.tolerations(tolerations) == tuple(tolerations)
    assert placement.node_selector({"kubernetes.io/arch": "amd64", "empty": ""}) == {"kubernetes.io/arch": "amd64",
                                                                                      "empty": ""}
    anti = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    assert placement.affinity(anti) == anti
    assert placement.affinity(ZONE_AFFINITY) == ZONE_AFFINITY
