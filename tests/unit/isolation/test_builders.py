"""ServiceAccount, NetworkPolicy and SecurityGroupPolicy of a workflow: golden objects, egress
input handling, names."""

from __future__ import annotations

from typing import Any

import pytest

from updraft.isolation import Dns, Owner, TaskApi, network_policy, security_group_policy, service_account
from updraft.model.names import identity_name

OWNER = Owner("nightly", "uid-w")
API = TaskApi("updraft-system", {"app.kubernetes.io/name": "updraft-operator"}, 8081)
ROLE = "arn:aws:iam::123456789012:role/etl"
META = {
    "name": "updraft-wf-nightly", "namespace": "data",
    "labels": {"app.kubernetes.io/managed-by": "updraft", "updraft.dev/workflow": "nightly"},
    "ownerReferences": [{"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "name": "nightly", "uid": "uid-w",
                         "controller": True, "blockOwnerDeletion": True}],
}
SELECTOR = {"matchLabels": {"app.kubernetes.io/managed-by": "updraft", "updraft.dev/workflow": "nightly"}}
DNS_RULE = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"},
                      {"port": 1053, "protocol": "UDP"}, {"port": 1053, "protocol": "TCP"}]}
API_RULE = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "updraft-system"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "updraft-operator"}}}],
            "ports": [{"port": 8081, "protocol": "TCP"}]}
# the metadata service is cut out of every block, whatever the rule
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}},
            {"ipBlock": {"cidr": "::/0", "except": ["fd00:ec2::254/128"]}}]


def test_service_account_golden() -> None:
    assert service_account("nightly", "data", ROLE, OWNER) == {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {**META, "annotations": {"eks.amazonaws.com/role-arn": ROLE}},
        "automountServiceAccountToken": False,
    }


def test_network_policy_golden_with_the_default_egress() -> None:
    assert network_policy("nightly", "data", OWNER, API) == {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": META,
        "spec": {"podSelector": SELECTOR, "policyTypes": ["Ingress", "Egress"], "ingress": [],
                 "egress": [DNS_RULE, API_RULE, {"to": ANYWHERE, "ports": [{"port": 443, "protocol": "TCP"}]}]},
    }


def test_security_group_policy_golden() -> None:
    assert security_group_policy("nightly", "data", ["sg-1", "sg-2"], OWNER) == {
        "apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy", "metadata": META,
        "spec": {"podSelector": SELECTOR, "securityGroups": {"groupIds": ["sg-1", "sg-2"]}},
    }


@pytest.mark.parametrize(("egress", "rules"), [
    pytest.param([], [], id="empty-allows-nothing-more"),
    pytest.param([{"cidr": "10.0.0.0/8", "ports": [{"port": 5432}]}],
                 [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}],
                 id="cidr-and-port-default-tcp"),
    pytest.param([{"cidr": "10.1.2.3/8"}], [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
                 id="cidr-normalised-all-ports"),
    pytest.param([{"cidr": "2001:db8::/32", "ports": [{"port": 53, "protocol": "UDP"}]}],
                 [{"to": [{"ipBlock": {"cidr": "2001:db8::/32"}}], "ports": [{"port": 53, "protocol": "UDP"}]}],
                 id="ipv6"),
    pytest.param([{"ports": [{"port": 5000, "protocol": "TCP"}]}],
                 [{"to": ANYWHERE, "ports": [{"port": 5000, "protocol": "TCP"}]}], id="no-cidr-is-anywhere"),
])
def test_workflow_egress(egress: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
    assert network_policy("nightly", "data", OWNER, API, egress=egress)["spec"]["egress"] == [DNS_RULE, API_RULE,
                                                                                              *rules]


@pytest.mark.parametrize(("egress", "message"), [
    pytest.param([{"ports": [{"port": 0}]}], r"spec.network.egress\[0\].ports\[0\].port: must be an integer from 1",
                 id="port-zero"),
    pytest.param([{}, {"ports": [{"port": "443"}]}], r"egress\[1\].ports\[0\].port", id="port-string"),
    pytest.param([{"ports": [{"port": 443, "protocol": "ICMP"}]}], r"protocol: must be one of TCP, UDP, SCTP",
                 id="protocol"),
    pytest.param([{"cidr": "10.0.0.300/8"}], r"egress\[0\].cidr: '10.0.0.300/8' is not an IPv4 or IPv6 CIDR",
                 id="cidr"),
    pytest.param([{"host": "example.com"}], r"egress\[0\]: unknown field\(s\) host", id="unknown-field"),
    pytest.param(["0.0.0.0/0"], r"egress\[0\]: must be an object", id="not-an-object"),
])
def test_bad_egress_names_the_field(egress: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        network_policy("nightly", "data", OWNER, API, egress=egress)


def test_dns_elsewhere() -> None:
    dns = Dns({"name": "dns"}, {"app": "coredns"}, ports=(53,))
    rule = network_policy("w", "d", OWNER, API, dns=dns)["spec"]["egress"][0]
    assert rule["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert rule["to"][0]["podSelector"] == {"matchLabels": {"app": "coredns"}}


@pytest.mark.parametrize("workflow", ["nightly", "Nightly_ETL.v2", "w" * 80])
def test_names_are_deterministic_labels(workflow: str) -> None:
    n = identity_name(workflow)
    assert len(n) <= 63 and n.startswith("updraft-wf-")
    assert n == identity_name(workflow)
    sa = service_account(workflow, "d", ROLE, OWNER)
    assert sa["metadata"]["name"] == n and len(sa["metadata"]["labels"]["updraft.dev/workflow"]) <= 63
    assert network_policy(workflow, "d", OWNER, API)["metadata"]["name"] == n
    assert security_group_policy(workflow, "d", ["sg-1"], OWNER)["metadata"]["name"] == n
    assert identity_name(workflow + "x") != n
