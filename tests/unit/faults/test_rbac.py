"""The fault tier's API server answers with the chart's RBAC: its rules are the chart's."""

from __future__ import annotations

from fault_rbac import RULES, allows, chart_rules


def test_the_fakes_rules_are_the_charts() -> None:
    assert chart_rules() == RULES


def test_the_operator_may_create_and_delete_token_secrets_but_never_read_them() -> None:
    assert allows("create", "Secret") and allows("delete", "Secret")
    assert not allows("get", "Secret") and not allows("list", "Secret")
    assert allows("patch", "WorkflowRun", "status") and not allows("patch", "Secret")


def test_the_operator_may_patch_pods_for_the_early_report_but_not_their_status() -> None:
    assert allows("patch", "Pod") and not allows("patch", "Pod", "status")
