"""Quotas and admission (pure): which waiting runs may start, and the per-cluster limits."""

from updraft.quota.admission import RunSlot, admit, admitted
from updraft.quota.limits import QuotaExceeded, Quotas, check_workflow_count, versions_to_prune

__all__ = ["QuotaExceeded", "Quotas", "RunSlot", "admit", "admitted", "check_workflow_count", "versions_to_prune"]
