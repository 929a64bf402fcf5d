"""Per-workflow identity and isolation objects (pure builders)."""

from updraft.isolation.builders import (ANYWHERE, DEFAULT_EGRESS, ROLE_ANNOTATION, Dns, Owner, TaskApi, network_policy,
                                        security_group_policy, service_account, task_pod_selector)

__all__ = ["ANYWHERE", "DEFAULT_EGRESS", "Dns", "Owner", "ROLE_ANNOTATION", "TaskApi", "network_policy",
           "security_group_policy", "service_account", "task_pod_selector"]
