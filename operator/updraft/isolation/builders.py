"""Per-workflow identity and network isolation objects (pure), owned by the Workflow.

- ServiceAccount annotated with the workflow's IAM role (IRSA); no API token automounted.
- NetworkPolicy for the workflow's task pods: no ingress; egress to cluster DNS, the operator's
  task API, and what the workflow allows (`spec.network.egress`; default TCP 443 anywhere).
- SecurityGroupPolicy (AWS VPC CNI) when the workflow names security groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from updraft.podspec import naming

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
DEFAULT_EGRESS: tuple[Mapping[str, Any], ...] = ({"ports": [{"port": 443, "protocol": "TCP"}]},)


@dataclass(frozen=True)
class Owner:
    """The Workflow that owns the objects (garbage-collected with it)."""

    name: str
    uid: str

    def reference(self) -> list[dict[str, Any]]:
        return [{"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "name": self.name, "uid": self.uid,
                 "controller": True, "blockOwnerDeletion": True}]


@dataclass(frozen=True)
class TaskApi:
    """Where task pods reach the operator's task API."""

    namespace: str
    pod_labels: Mapping[str, str]
    port: int


@dataclass(frozen=True)
class Dns:
    namespace_labels: Mapping[str, str] = field(default_factory=lambda: {"kubernetes.io/metadata.name": "kube-system"})
    pod_labels: Mapping[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})


def object_name(workflow: str) -> str:
    """Name of the workflow's ServiceAccount, NetworkPolicy and SecurityGroupPolicy."""
    return naming.dns_label(f"updraft-wf-{workflow}")


def _meta(workflow: str, namespace: str, owner: Owner) -> dict[str, Any]:
    return {"name": object_name(workflow), "namespace": namespace,
            "labels": {naming.LABEL_MANAGED: naming.MANAGED_BY, naming.LABEL_WORKFLOW: naming.label_value(workflow)},
            "ownerReferences": owner.reference()}


def task_pod_selector(workflow: str) -> dict[str, Any]:
    return {"matchLabels": {naming.LABEL_MANAGED: naming.MANAGED_BY,
                            naming.LABEL_WORKFLOW: naming.label_value(workflow)}}


def service_account(workflow: str, namespace: str, role_arn: str, owner: Owner) -> dict[str, Any]:
    meta = _meta(workflow, namespace, owner)
    meta["annotations"] = {ROLE_ANNOTATION: role_arn}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False}


def _egress_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ports = [{"port": int(p["port"]), "protocol": p.get("protocol", "TCP")} for p in rule.get("ports") or []]
    if ports:
        out["ports"] = ports
    cidr = rule.get("cidr")
    if cidr:
        out["to"] = [{"ipBlock": {"cidr": cidr}}]
    return out


def network_policy(workflow: str, namespace: str, owner: Owner, task_api: TaskApi, dns: Dns = Dns(),
                   egress: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """`egress` None means the default (TCP 443 anywhere); an empty list allows nothing more."""
    rules: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": {"matchLabels": dict(dns.namespace_labels)},
                 "podSelector": {"matchLabels": dict(dns.pod_labels)}}],
         "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"},
                   {"port": 1053, "protocol": "UDP"}, {"port": 1053, "protocol": "TCP"}]},
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": task_api.namespace}},
                 "podSelector": {"matchLabels": dict(task_api.pod_labels)}}],
         "ports": [{"port": task_api.port, "protocol": "TCP"}]},
    ]
    rules += [_egress_rule(r) for r in (DEFAULT_EGRESS if egress is None else egress)]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(workflow, namespace, owner),
        "spec": {"podSelector": task_pod_selector(workflow), "policyTypes": ["Ingress", "Egress"],
                 "ingress": [], "egress": rules},
    }


def security_group_policy(workflow: str, namespace: str, security_group_ids: Sequence[str],
                          owner: Owner) -> dict[str, Any]:
    return {
        "apiVersion": "vpcresources.k8s.aws/v1beta1",
        "kind": "SecurityGroupPolicy",
        "metadata": _meta(workflow, namespace, owner),
        "spec": {"podSelector": task_pod_selector(workflow),
                 "securityGroups": {"groupIds": list(security_group_ids)}},
    }
