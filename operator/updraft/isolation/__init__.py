"""Per-workflow identity and isolation objects (pure builders)."""

from updraft.isolation.builders import (ANYWHERE, DEFAULT_EGRESS, ROLE_ANNOTATION, Dns, Owner, TaskApi,
                                        check_default_egress, network_policy, security_group_policy,
                                        service_account, task_pod_selector)
from updraft.isolation.forbidden import APISERVER_PORTS, METADATA, METADATA_CIDRS, Forbidden, forbidden

__all__ = ["ANYWHERE", "APISERVER_PORTS", "DEFAULT_EGRESS", "Dns", "Forbidden", "METADATA", "METADATA_CIDRS", "Owner",
           "ROLE_ANNOTATION", "TaskApi", "check_default_egress", "forbidden", "network_policy",
           "security_group_policy", "service_account", "task_pod_selector"]
