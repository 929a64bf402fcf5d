"""The guide's quotas that are not rules of one definition, as defaults the chart can change, and
the checks that use them (pure). A definition's own limits (size, max_active_runs, timeouts) are
`updraft.definition.Limits`, checked by the validator.

`check_workflow_count` returns None when the request fits, else a QuotaExceeded saying which
quota, its limit and a sentence for the user; the API turns it into ServiceQuotaExceededException
and changes nothing. Versions beyond their quota are pruned, not refused; runs beyond the
concurrency limits are not refused either: they wait (see admission).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True)
class Quotas:
    """Defaults from the MWAA Serverless user guide."""

    workflows_per_cluster: int = 100
    versions_per_workflow: int = 50
    concurrent_runs_cluster: int = 100
    xcom_bytes_per_run: int = 200 * 1024

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"quota {f.name} must be a whole number, 0 or more, got {value!r}")


@dataclass(frozen=True)
class QuotaExceeded:
    quota: str  # the Quotas field
    limit: int
    message: str

    def __str__(self) -> str:
        return self.message


DEFAULT = Quotas()


def check_workflow_count(current: int, quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    """Creating one more workflow when `current` exist (not counting the new one)."""
    if current >= quotas.workflows_per_cluster:
        return QuotaExceeded("workflows_per_cluster", quotas.workflows_per_cluster,
                             f"the cluster already has {current} workflows; the limit is "
                             f"{quotas.workflows_per_cluster}. Delete a workflow first.")
    return None


def versions_to_prune(versions: Sequence[tuple[str, datetime]], pinned: Collection[str], keep: int,
                      latest: str | None = None) -> list[str]:
    """Which versions to delete so at most `keep` remain: the oldest first (ties by id), never one
    a run still uses (`pinned`) nor the latest. Returns fewer than needed if too many are pinned."""
    excess = len(versions) - keep
    if excess <= 0:
        return []
    out: list[str] = []
    for vid, _ in sorted(versions, key=lambda v: (v[1], v[0])):
        if len(out) == excess:
            break
        if vid not in pinned and vid != latest:
            out.append(vid)
    return out
