"""Quotas and admission (pure): which waiting runs may start, and the per-cluster limits."""

from updraft.quota.admission import RunSlot, admit, admitted
from updraft.quota.limits import (QuotaExceeded, Quotas, check_definition_size, check_max_active_runs,
                                  check_new_version, check_task_timeout, check_version_prune, check_workflow_count,
                                  check_xcom_size, versions_to_prune)

__all__ = ["QuotaExceeded", "Quotas", "RunSlot", "admit", "admitted", "check_definition_size", "check_max_active_runs",
           "check_new_version", "check_task_timeout", "check_version_prune", "check_workflow_count",
           "check_xcom_size", "versions_to_prune"]
