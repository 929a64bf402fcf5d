"""The fault schedule (pure): from a seed and a profile, every fault the driver injects and when.

The same seed and profile give the same schedule, so a run is replayable (`--seed`); what the
faults then hit depends on timing (which pod is running, which write comes next), and the driver
prints what each one actually hit in its timeline."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

# A targeted kill: the operator is SIGKILLed right after the API server applied one of these writes
# (before the operator reads the answer).
TARGETS = ("secret-create", "pod-create", "run-status-patch", "pod-delete")
ERROR_CODES = (429, 500, 503)
LOST_NODE = "kwok-node-1"  # the fake node a node loss deletes (hack/cluster/kwok.sh registers it again)


@dataclass(frozen=True)
class Profile:
    """How much of each fault, over how long."""

    name: str
    runs: int
    seconds: float  # the window in which runs are created and faults injected
    kills: int  # random SIGKILLs of the operator
    targeted_kills: int  # armed kills right after a chosen write
    apiserver_restarts: int
    pod_faults: int  # task pods deleted or evicted under a running attempt
    error_windows: int  # the proxy answers 429/5xx to a share of the operator's calls for a while
    stalls: int  # the proxy holds the operator's calls longer than its call deadline (5 s) and Lease renewal (4 s)
    watch_cuts: int  # every open watch of the operator is cut
    replicas: int = 1  # operator processes (more than one: leader election)
    leader_pauses: int = 0  # the leader frozen (all its traffic held both ways) past its Lease
    node_losses: int = 0  # the Node under running task pods deleted; its pods go by the pod GC

    @property
    def all_kills(self) -> int:
        return self.kills + self.targeted_kills


FULL = Profile("full", runs=320, seconds=420, kills=24, targeted_kills=17, apiserver_restarts=2, pod_faults=70,
               error_windows=6, stalls=4, watch_cuts=6, replicas=2, leader_pauses=4, node_losses=1)
SHORT = Profile("short", runs=60, seconds=120, kills=4, targeted_kills=4, apiserver_restarts=1, pod_faults=8,
                error_windows=2, stalls=1, watch_cuts=2)
PROFILES = {p.name: p for p in (FULL, SHORT)}


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the start of the window
    kind: str  # kill | kill-after | apiserver-restart | pod-fault | errors | stall | cut-watches | leader-pause
    #            | node-loss
    detail: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in sorted(self.detail.items()))
        return f"{self.kind} {extra}".strip()


def plan(seed: int, profile: Profile) -> list[Fault]:
    """Every fault of one run, in time order. Faults start after 10 % of the window (the first runs
    are under way) and end by 85 % of it (the rest of the window lets the last ones settle);
    apiserver restarts are spread so that two never overlap. A node loss falls in the first half of
    that span: the node is away for `down_s` at least and until the pod GC removed its pods (40-60 s
    here), and the window's later runs find it registered again. Node losses are drawn last, so
    a profile that adds them (`--node-losses`) keeps every other fault of the seed where it was."""
    rng = random.Random(seed)
    lo, hi = profile.seconds * 0.10, profile.seconds * 0.85

    def when() -> float:
        return round(rng.uniform(lo, hi), 1)

    faults = [Fault(when(), "kill", {"restart_after_s": round(rng.uniform(0.5, 3.0), 1)})
              for _ in range(profile.kills)]
    faults += [Fault(when(), "kill-after", {"target": TARGETS[i % len(TARGETS)],
                                            "restart_after_s": round(rng.uniform(0.5, 3.0), 1)})
               for i in range(profile.targeted_kills)]
    n = profile.apiserver_restarts
    faults += [Fault(round(lo + (hi - lo) * (i + rng.uniform(0.2, 0.8)) / n, 1), "apiserver-restart")
               for i in range(n)]
    faults += [Fault(when(), "pod-fault", {"how": rng.choice(("delete", "evict"))}) for _ in range(profile.pod_faults)]
    faults += [Fault(when(), "errors", {"code": rng.choice(ERROR_CODES), "share": rng.choice((0.2, 0.5)),
                                        "seconds": rng.choice((5, 10, 20)),
                                        "after_applying": rng.random() < 0.5})
               for _ in range(profile.error_windows)]
    faults += [Fault(when(), "stall", {"seconds": rng.choice((8, 12))}) for _ in range(profile.stalls)]
    faults += [Fault(when(), "cut-watches") for _ in range(profile.watch_cuts)]
    faults += [Fault(when(), "leader-pause", {"seconds": rng.choice((12, 20))}) for _ in range(profile.leader_pauses)]
    faults += [Fault(round(rng.uniform(lo, (lo + hi) / 2), 1), "node-loss",
                     {"node": LOST_NODE, "down_s": rng.choice((30, 45, 60))}) for _ in range(profile.node_losses)]
    return sorted(faults, key=lambda f: (f.at, f.kind))


def counts(faults: list[Fault]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in faults:
        out[f.kind] = out.get(f.kind, 0) + 1
    return out
