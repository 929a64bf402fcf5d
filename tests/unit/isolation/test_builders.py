"""ServiceAccount, NetworkPolicy and SecurityGroupPolicy of a workflow."""

from __future__ import annotations

from updraft.isolation import Owner, TaskApi, network_policy, object_name, security_group_policy, service_account

OWNER = Owner("nightly", "uid-w")
API = TaskApi("updraft-system", {"app.kubernetes.io/name": "updraft-operator"}, 8081)


def test_service_account_maps_the_role_and_mounts_no_token() -> None:
    sa = service_account("nightly", "data", "arn:aws:iam::123456789012:role/etl", OWNER)
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/etl"}
    assert sa["automountServiceAccountToken"] is False
    assert sa["metadata"]["ownerReferences"][0]["uid"] == "uid-w"
    assert sa["metadata"]["name"] == object_name("nightly") == "updraft-wf-nightly"


def test_network_policy_default_egress() -> None:
    np = network_policy("nightly", "data", OWNER, API)
    spec = np["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"] and spec["ingress"] == []
    assert spec["podSelector"]["matchLabels"]["updraft.dev/workflow"] == "nightly"
    dns, api, https = spec["egress"]
    assert {"port": 53, "protocol": "UDP"} in dns["ports"]
    assert api["ports"] == [{"port": 8081, "protocol": "TCP"}]
    assert api["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "updraft-system"}
    assert https == {"ports": [{"port": 443, "protocol": "TCP"}]}


def test_network_policy_custom_and_empty_egress() -> None:
    custom = network_policy("w", "d", OWNER, API, egress=[{"cidr": "10.0.0.0/8", "ports": [{"port": 5432}]}])
    assert custom["spec"]["egress"][2] == {"ports": [{"port": 5432, "protocol": "TCP"}],
                                           "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}
    assert len(network_policy("w", "d", OWNER, API, egress=[])["spec"]["egress"]) == 2


def test_security_group_policy() -> None:
    sgp = security_group_policy("nightly", "data", ["sg-1", "sg-2"], OWNER)
    assert sgp["apiVersion"] == "vpcresources.k8s.aws/v1beta1"
    assert sgp["spec"]["securityGroups"] == {"groupIds": ["sg-1", "sg-2"]}
