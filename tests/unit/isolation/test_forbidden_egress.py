"""No egress rule reaches the instance metadata service or the API server (issue 21): they are
cut out of every ipBlock, a rule aimed inside them is refused naming the field, and the
operator-wide default never has a port-less rule."""

from __future__ import annotations

from typing import Any

import pytest

from updraft.isolation import Owner, TaskApi, check_default_egress, forbidden, network_policy

OWNER = Owner("nightly", "uid-1")
API = TaskApi("updraft-system", {"app.kubernetes.io/name": "updraft-operator"}, 8081)
# the local cluster: the API server on the node address (6443) and its Service address (443)
BLOCKS = forbidden(["192.0.2.2/32", "10.96.0.1/32"], [443, 6443])


def blocks_of(egress: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    rules = network_policy("nightly", "data", OWNER, API, egress=egress, forbidden=BLOCKS)["spec"]["egress"][2:]
    return [t["ipBlock"] for r in rules for t in r["to"]]


def test_the_default_443_anywhere_cuts_out_metadata_and_the_api_server() -> None:
    assert blocks_of(None) == [
        {"cidr": "0.0.0.0/0", "except": ["10.96.0.1/32", "169.254.169.254/32", "192.0.2.2/32"]},
        {"cidr": "::/0", "except": ["fd00:ec2::254/128"]},
    ]


def test_a_port_less_rule_never_opens_the_metadata_service() -> None:
    assert blocks_of([{"cidr": "169.254.0.0/16"}]) == [{"cidr": "169.254.0.0/16", "except": ["169.254.169.254/32"]}]


def test_a_rule_on_other_ports_of_the_api_servers_address_is_kept_whole() -> None:
    # a stand-in S3 on the node's own address (the local cluster's moto) is not the API server
    assert blocks_of([{"cidr": "192.0.2.2/32", "ports": [{"port": 5000}]}]) == [{"cidr": "192.0.2.2/32"}]
    # ...and a block that holds the API server but opens only other ports needs no except
    assert blocks_of([{"cidr": "192.0.2.0/24", "ports": [{"port": 5432}]}]) == [
        {"cidr": "192.0.2.0/24"}]


@pytest.mark.parametrize(("rule", "message"), [
    pytest.param({"cidr": "169.254.169.254/32", "ports": [{"port": 80}]},
                 r"egress\[0\].cidr: 169.254.169.254/32 is inside 169.254.169.254/32, the instance metadata service, "
                 r"which task pods may never reach on any port", id="metadata-v4"),
    pytest.param({"cidr": "fd00:ec2::254/128"}, r"the instance metadata service", id="metadata-v6"),
    pytest.param({"cidr": "192.0.2.2/32", "ports": [{"port": 6443}]},
                 r"the Kubernetes API server, which task pods may never reach on ports 443, 6443", id="apiserver-port"),
    pytest.param({"cidr": "192.0.2.2/32"}, r"the Kubernetes API server", id="apiserver-port-less"),
])
def test_a_rule_aimed_inside_a_forbidden_block_is_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        blocks_of([rule])


def test_without_api_server_settings_the_metadata_service_is_still_cut_out() -> None:
    rules = network_policy("nightly", "data", OWNER, API)["spec"]["egress"]
    assert rules[2]["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}


def test_the_default_egress_names_its_ports() -> None:
    check_default_egress([{"ports": [{"port": 443}]}, {"cidr": "10.0.0.0/8", "ports": [{"port": 5432}]}], "D")
    with pytest.raises(ValueError, match=r"D\[1\]: name its ports"):
        check_default_egress([{"ports": [{"port": 443}]}, {"cidr": "10.0.0.0/8"}], "D")
    with pytest.raises(ValueError, match=r"D\[0\].cidr: .* the Kubernetes API server"):
        check_default_egress([{"cidr": "192.0.2.2/32", "ports": [{"port": 443}]}], "D", BLOCKS)


def test_a_bad_api_server_cidr_is_named() -> None:
    with pytest.raises(ValueError, match=r"apiserver CIDR \[1\] 'nope'"):
        forbidden(["10.0.0.1/32", "nope"])
