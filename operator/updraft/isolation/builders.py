"""Per-workflow identity and network isolation objects (pure), owned by the Workflow.

- ServiceAccount annotated with the workflow's IAM role (IRSA); no API token automounted.
- NetworkPolicy for the workflow's task pods: no ingress at all; egress to cluster DNS, the
  operator's task API, and what the workflow allows (`spec.network.egress`; default TCP 443
  anywhere).
- SecurityGroupPolicy (AWS VPC CNI) when the workflow names security groups.

All three share one deterministic name (`names.identity_name`), so re-applying is idempotent and a
restarted operator finds what it made; Kubernetes garbage-collects them with the Workflow.

Egress rules mirror Workflow `spec.network.egress`: a list of
    {"cidr": "<IPv4 or IPv6 CIDR, optional>", "ports": [{"port": 1-65535, "protocol": "TCP|UDP|SCTP"}]}
A rule without `cidr` means anywhere, written as two ipBlocks 0.0.0.0/0 and ::/0 (so a
dual-stack cluster allows both families, and CNIs that keep ipBlocks for traffic leaving the
cluster, as Cilium does, do not open the way to other pods). A rule without ports allows every
port. `egress=None` is the default (TCP 443 anywhere); an empty list allows nothing more.
Whatever the rules, the metadata service and the API server's addresses are cut out of every
ipBlock (`except`; see forbidden.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from updraft.isolation.forbidden import METADATA, Forbidden, excepts
from updraft.model import names

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
DEFAULT_EGRESS: tuple[Mapping[str, Any], ...] = ({"ports": [{"port": 443, "protocol": "TCP"}]},)
ANYWHERE = ("0.0.0.0/0", "::/0")
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class Owner:
    """The Workflow that owns the objects (garbage-collected with it)."""

    name: str
    uid: str

    def reference(self) -> list[dict[str, Any]]:
        return [names.owner_ref("Workflow", self.name, self.uid, controller=True, block_owner_deletion=True)]


@dataclass(frozen=True)
class TaskApi:
    """Where task pods reach the operator's task API: its namespace, its pods' labels, its port."""

    namespace: str
    pod_labels: Mapping[str, str]
    port: int


@dataclass(frozen=True)
class Dns:
    """Where cluster DNS runs. Ports are the DNS pods' own ports (policies see traffic after the
    Service's port mapping): 53, and 1053 for CoreDNS deployments that run unprivileged and
    listen there behind a Service on 53 (as the local development cluster does)."""

    namespace_labels: Mapping[str, str] = field(default_factory=lambda: {"kubernetes.io/metadata.name": "kube-system"})
    pod_labels: Mapping[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})
    ports: tuple[int, ...] = (53, 1053)


def _meta(workflow: str, namespace: str, owner: Owner) -> dict[str, Any]:
    return {"name": names.identity_name(workflow), "namespace": namespace,
            "labels": {names.LABEL_MANAGED: names.MANAGED_BY, names.LABEL_WORKFLOW: names.label_value(workflow)},
            "ownerReferences": owner.reference()}


def task_pod_selector(workflow: str) -> dict[str, Any]:
    """Selects the workflow's task pods (the labels podspec puts on every pod)."""
    return {"matchLabels": {names.LABEL_MANAGED: names.MANAGED_BY,
                            names.LABEL_WORKFLOW: names.label_value(workflow)}}


def service_account(workflow: str, namespace: str, role_arn: str, owner: Owner) -> dict[str, Any]:
    meta = _meta(workflow, namespace, owner)
    meta["annotations"] = {ROLE_ANNOTATION: role_arn}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False}


def check_default_egress(rules: Sequence[Mapping[str, Any]], where: str,
                         forbidden: Sequence[Forbidden] = METADATA) -> None:
    """The operator-wide default egress: every rule valid and naming its ports (a port-less rule
    would open every port of its CIDR to every workflow that sets none). ValueError naming the rule."""
    for i, rule in enumerate(rules):
        _egress_rule(rule, f"{where}[{i}]", forbidden)
        if not rule.get("ports"):
            raise ValueError(f"{where}[{i}]: name its ports (a default rule without ports opens every port "
                             "to every workflow that sets no egress of its own)")


def _egress_rule(rule: Mapping[str, Any], where: str, blocks: Sequence[Forbidden] = METADATA) -> dict[str, Any]:
    if not isinstance(rule, Mapping):
        raise ValueError(f"{where}: must be an object with optional cidr and ports")
    unknown = set(rule) - {"cidr", "ports"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; allowed: cidr, ports")
    ports = []
    for j, p in enumerate(rule.get("ports") or []):
        port, protocol = (p.get("port"), p.get("protocol", "TCP")) if isinstance(p, Mapping) else (None, None)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{where}.ports[{j}].port: must be an integer from 1 to 65535, got {port!r}")
        if protocol not in PROTOCOLS:
            raise ValueError(f"{where}.ports[{j}].protocol: must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        ports.append({"port": port, "protocol": protocol})
    cidr = rule.get("cidr")
    if cidr:
        try:
            cidrs: Sequence[str] = (str(ipaddress.ip_network(str(cidr), strict=False)),)
        except ValueError:
            raise ValueError(f"{where}.cidr: {cidr!r} is not an IPv4 or IPv6 CIDR") from None
    else:
        cidrs = ANYWHERE
    opened = [p["port"] for p in ports]
    to = []
    for c in cidrs:
        block: dict[str, Any] = {"cidr": c}
        cut = excepts(c, opened, blocks, where)
        if cut:
            block["except"] = cut
        to.append({"ipBlock": block})
    out: dict[str, Any] = {"to": to}
    if ports:
        out["ports"] = ports
    return out


def network_policy(workflow: str, namespace: str, owner: Owner, task_api: TaskApi, dns: Dns = Dns(),
                   egress: Sequence[Mapping[str, Any]] | None = None,
                   forbidden: Sequence[Forbidden] = METADATA) -> dict[str, Any]:
    """The workflow's NetworkPolicy. `egress` None means the default (TCP 443 anywhere); an empty
    list allows nothing beyond DNS and the task API. `forbidden` is cut out of every ipBlock
    (forbidden.forbidden(): the metadata service and the API server). Raises ValueError naming
    the bad field."""
    dns_ports = [{"port": p, "protocol": proto} for p in dns.ports for proto in ("UDP", "TCP")]
    rules: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": {"matchLabels": dict(dns.namespace_labels)},
                 "podSelector": {"matchLabels": dict(dns.pod_labels)}}],
         "ports": dns_ports},
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": task_api.namespace}},
                 "podSelector": {"matchLabels": dict(task_api.pod_labels)}}],
         "ports": [{"port": task_api.port, "protocol": "TCP"}]},
    ]
    rules += [_egress_rule(r, f"spec.network.egress[{i}]", forbidden)
              for i, r in enumerate(DEFAULT_EGRESS if egress is None else egress)]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(workflow, namespace, owner),
        "spec": {"podSelector": task_pod_selector(workflow), "policyTypes": ["Ingress", "Egress"],
                 "ingress": [], "egress": rules},
    }


def security_group_policy(workflow: str, namespace: str, security_group_ids: Sequence[str],
                          owner: Owner) -> dict[str, Any]:
    """SecurityGroupPolicy of the AWS VPC CNI: the workflow's pods get these security groups."""
    return {
        "apiVersion": "vpcresources.k8s.aws/v1beta1",
        "kind": "SecurityGroupPolicy",
        "metadata": _meta(workflow, namespace, owner),
        "spec": {"podSelector": task_pod_selector(workflow),
                 "securityGroups": {"groupIds": list(security_group_ids)}},
    }
