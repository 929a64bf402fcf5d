"""The guide's quotas, as defaults the chart can change, and the checks that use them (pure).

Each `check_*` returns None when the request fits, else a QuotaExceeded saying which quota, its
limit and a sentence for the user; the API turns it into ServiceQuotaExceededException and
changes nothing. Runs beyond the concurrency limits are not refused: they wait (see admission).
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
    max_active_runs_limit: int = 20
    default_max_active_runs: int = 16
    xcom_bytes_per_run: int = 200 * 1024
    definition_bytes: int = 50 * 1024
    task_timeout_s: int = 3600

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"quota {f.name} must be a whole number, 0 or more, got {value!r}")
        if self.default_max_active_runs > self.max_active_runs_limit:
            # a chart that lowers the limit lowers the default with it, rather than failing
            object.__setattr__(self, "default_max_active_runs", self.max_active_runs_limit)


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


def check_definition_size(size_bytes: int, quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    if size_bytes > quotas.definition_bytes:
        return QuotaExceeded("definition_bytes", quotas.definition_bytes,
                             f"the definition is {size_bytes} bytes; the limit is {quotas.definition_bytes} bytes "
                             f"({quotas.definition_bytes // 1024} KB)")
    return None


def check_xcom_size(total_bytes: int, quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    """`total_bytes` is the run's XCom data including the value being pushed."""
    if total_bytes > quotas.xcom_bytes_per_run:
        return QuotaExceeded("xcom_bytes_per_run", quotas.xcom_bytes_per_run,
                             f"the run's XCom data would be {total_bytes} bytes; the limit is "
                             f"{quotas.xcom_bytes_per_run} bytes ({quotas.xcom_bytes_per_run // 1024} KB) per run")
    return None


def check_max_active_runs(value: int, quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= quotas.max_active_runs_limit:
        return QuotaExceeded("max_active_runs_limit", quotas.max_active_runs_limit,
                             f"max_active_runs must be a whole number from 1 to {quotas.max_active_runs_limit}, "
                             f"got {value!r}")
    return None


def check_task_timeout(seconds: float, quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    """A task's execution_timeout; tasks without one get the quota itself."""
    if seconds > quotas.task_timeout_s:
        return QuotaExceeded("task_timeout_s", quotas.task_timeout_s,
                             f"execution_timeout is {seconds:g} s; the limit is {quotas.task_timeout_s} s "
                             f"({quotas.task_timeout_s // 60} min)")
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


def check_version_prune(versions: Sequence[tuple[str, datetime]], pinned: Collection[str],
                        quotas: Quotas = DEFAULT, latest: str | None = None) -> list[str]:
    """`versions_to_prune` against the versions_per_workflow quota."""
    return versions_to_prune(versions, pinned, quotas.versions_per_workflow, latest)


def check_new_version(versions: Sequence[tuple[str, datetime]], pinned: Collection[str],
                      quotas: Quotas = DEFAULT) -> QuotaExceeded | None:
    """Adding one more version: refused only when pruning cannot make room, because every old
    version is still used by a run (the new one becomes the latest, so all existing may go)."""
    after = len(versions) + 1 - len(versions_to_prune(versions, pinned, quotas.versions_per_workflow - 1))
    if after > quotas.versions_per_workflow:
        return QuotaExceeded("versions_per_workflow", quotas.versions_per_workflow,
                             f"the workflow has {len(versions)} versions and runs still use too many of them to "
                             f"drop the oldest; the limit is {quotas.versions_per_workflow}. Wait for runs to end.")
    return None
