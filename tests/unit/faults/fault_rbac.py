"""The operator's RBAC as the chart grants it, for the fault tier's API server.

RULES is written out here so the fake reads like a policy; `chart_rules()` parses the chart's
`updraft.operatorRules` template (no helm binary needed: the block is plain YAML), and
test_rbac.py asserts the two are equal, so the fake cannot drift from what a real install allows."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

CHART_RBAC = Path(__file__).parents[3] / "charts" / "updraft" / "templates" / "operator-rbac.yaml"

# (apiGroup, resource) -> verbs, as in the chart's operator rules (cluster scope)
RULES: dict[tuple[str, str], frozenset[str]] = {
    ("updraft.dev", "workflows"): frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    ("updraft.dev", "workflowruns"): frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    ("updraft.dev", "workflowversions"): frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    ("updraft.dev", "workflows/status"): frozenset({"get", "patch", "update"}),
    ("updraft.dev", "workflowruns/status"): frozenset({"get", "patch", "update"}),
    ("", "pods"): frozenset({"get", "list", "watch", "create", "patch", "delete"}),
    ("", "pods/log"): frozenset({"get"}),
    ("", "serviceaccounts"): frozenset({"get", "create", "patch"}),
    ("", "configmaps"): frozenset({"get", "create", "patch"}),
    ("", "secrets"): frozenset({"create", "delete"}),
    ("", "events"): frozenset({"create", "patch"}),
    ("events.k8s.io", "events"): frozenset({"create", "patch"}),
    ("networking.k8s.io", "networkpolicies"): frozenset({"get", "create", "patch"}),
    ("vpcresources.k8s.aws", "securitygrouppolicies"): frozenset({"get", "create", "patch"}),
}

# the adapter's kinds -> (apiGroup, resource)
RESOURCES: dict[str, tuple[str, str]] = {
    "Workflow": ("updraft.dev", "workflows"), "WorkflowRun": ("updraft.dev", "workflowruns"),
    "WorkflowVersion": ("updraft.dev", "workflowversions"), "Pod": ("", "pods"), "Secret": ("", "secrets"),
    "ConfigMap": ("", "configmaps"), "ServiceAccount": ("", "serviceaccounts"), "Event": ("", "events"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "SecurityGroupPolicy": ("vpcresources.k8s.aws", "securitygrouppolicies"),
}


def chart_rules(path: Path = CHART_RBAC) -> dict[tuple[str, str], frozenset[str]]:
    """The chart's operator rules: the YAML inside `define "updraft.operatorRules"`."""
    text = path.read_text()
    block = re.search(r'\{\{-? define "updraft.operatorRules" -?\}\}(.*?)\{\{-? end -?\}\}', text, re.S)
    if block is None:
        raise AssertionError(f"{path}: no updraft.operatorRules block")
    rules: dict[tuple[str, str], frozenset[str]] = {}
    for rule in yaml.safe_load(block.group(1)):
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules[(group, resource)] = rules.get((group, resource), frozenset()) | frozenset(rule["verbs"])
    return rules


def allows(verb: str, kind: str, subresource: str | None = None) -> bool:
    group, resource = RESOURCES[kind]
    if subresource:
        resource = f"{resource}/{subresource}"
    return verb in RULES.get((group, resource), frozenset())
