"""Quotas and admission (pure): which waiting runs may start, and the per-cluster limits."""

from updraft.quota.admission import RunSlot, admitted
from updraft.quota.limits import Quotas, QuotaExceeded, versions_to_prune

__all__ = ["QuotaExceeded", "Quotas", "RunSlot", "admitted", "versions_to_prune"]
