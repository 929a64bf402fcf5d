"""The guide's quotas, as defaults the chart can change, and the checks that use them (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Quotas:
    workflows_per_cluster: int = 100
    versions_per_workflow: int = 50
    concurrent_runs_cluster: int = 100
    max_active_runs_limit: int = 20
    default_max_active_runs: int = 16
    xcom_bytes_per_run: int = 200 * 1024
    definition_bytes: int = 50 * 1024
    task_timeout_s: int = 3600


@dataclass(frozen=True)
class QuotaExceeded:
    quota: str
    limit: int
    message: str


def check_workflow_count(existing: int, quotas: Quotas) -> QuotaExceeded | None:
    """`existing` counts the other workflows; None when one more fits."""
    if existing >= quotas.workflows_per_cluster:
        return QuotaExceeded("workflows_per_cluster", quotas.workflows_per_cluster,
                             f"the cluster already has {existing} workflows; the limit is {quotas.workflows_per_cluster}")
    return None


def versions_to_prune(versions: Sequence[tuple[str, datetime]], pinned: set[str], keep: int,
                      latest: str | None = None) -> list[str]:
    """Which versions to delete so at most `keep` remain: the oldest first, never one a run still
    uses (`pinned`) nor the latest. May return fewer than needed if too many are pinned."""
    excess = len(versions) - keep
    if excess <= 0:
        return []
    out = []
    for vid, _ in sorted(versions, key=lambda v: (v[1], v[0])):
        if len(out) == excess:
            break
        if vid not in pinned and vid != latest:
            out.append(vid)
    return out
