"""Addresses a task pod never reaches, whatever its workflow's egress rules say (pure).

- The instance metadata service (169.254.169.254, and fd00:ec2::254 on IPv6 instances), on
  every port: it hands out the node's IAM role, which is not the workflow's.
- The Kubernetes API server's addresses (settings `apiserver_cidrs`, chart
  `runner.apiServer.cidrs`) on its ports (`apiserver_ports`, default 443 and 6443): a task holds
  no Kubernetes credentials, and on clusters whose CNI applies ipBlocks to in-cluster addresses
  "TCP 443 anywhere" would otherwise reach it.

Each egress ipBlock that contains one of them gets it in its `except`. A rule naming a CIDR
inside a forbidden block is refused with a message naming the field, unless every port it opens
is one the block does not forbid (e.g. a stand-in S3 on the node's own address, port 5000).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

METADATA_CIDRS = ("169.254.169.254/32", "fd00:ec2::254/128")
APISERVER_PORTS = (443, 6443)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Forbidden:
    """`cidr` is never reached on `ports` (empty: on any port); `what` names it in errors."""

    cidr: str
    what: str
    ports: tuple[int, ...] = ()

    @property
    def network(self) -> Network:
        return ipaddress.ip_network(self.cidr, strict=False)


METADATA: tuple[Forbidden, ...] = tuple(Forbidden(c, "the instance metadata service") for c in METADATA_CIDRS)


def forbidden(apiserver_cidrs: Sequence[str] = (), apiserver_ports: Sequence[int] = APISERVER_PORTS) -> tuple[Forbidden, ...]:
    """The metadata service, and the API server's addresses on its ports. ValueError naming a bad CIDR."""
    out = list(METADATA)
    for i, c in enumerate(apiserver_cidrs):
        try:
            net = ipaddress.ip_network(str(c), strict=False)
        except ValueError:
            raise ValueError(f"apiserver CIDR [{i}] {c!r} is not an IPv4 or IPv6 CIDR") from None
        out.append(Forbidden(str(net), "the Kubernetes API server", tuple(apiserver_ports)))
    return tuple(out)


def _touches(block: Forbidden, ports: Sequence[int]) -> bool:
    """A rule opening `ports` (empty: every port) can reach `block` on a port it forbids."""
    return not block.ports or not ports or any(p in block.ports for p in ports)


def excepts(cidr: str, ports: Sequence[int], blocks: Sequence[Forbidden], where: str) -> list[str]:
    """The `except` list of an ipBlock `cidr` opened on `ports`. ValueError when `cidr` itself lies
    inside a forbidden block on a forbidden port (an except may only carve out a strict subset)."""
    net = ipaddress.ip_network(cidr, strict=False)
    out: list[str] = []
    for block in blocks:
        fnet = block.network
        if fnet.version != net.version or not _touches(block, ports):
            continue
        if net.subnet_of(fnet):  # type: ignore[arg-type]  # same version, checked above
            which = f"on ports {', '.join(map(str, block.ports))}" if block.ports else "on any port"
            raise ValueError(f"{where}.cidr: {cidr} is inside {block.cidr}, {block.what}, which task pods may "
                             f"never reach {which}")
        if fnet.subnet_of(net):  # type: ignore[arg-type]
            out.append(str(fnet))
    return sorted(set(out))
