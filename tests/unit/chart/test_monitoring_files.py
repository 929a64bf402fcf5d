"""The chart's alert rules and Grafana dashboard refer only to metrics Updraft exports, carry what
an on-call engineer needs, and link runbooks that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import updraft.metrics  # noqa: F401  (declares every metric)

TOP = Path(__file__).parents[3]
FILES = TOP / "charts" / "updraft" / "files"
ALERTS = yaml.safe_load((FILES / "alerts.yaml").read_text())["groups"]
DASHBOARD = json.loads((FILES / "dashboard.json").read_text())
RULES = [r for g in ALERTS for r in g["rules"]]
PANELS = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
EXPRS = [r["expr"] for r in RULES] + [t["expr"] for p in PANELS for t in p["targets"]]


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported() -> set[str]:
    """Series names, also of labelled metrics that have no child yet (the operator's included)."""
    from updraft import metrics

    metrics.register_operator_series()
    return {family.name + suffix for family in REGISTRY.collect() for suffix in SUFFIXES.get(family.type, ("",))}


@pytest.mark.parametrize("expr", EXPRS)
def test_expressions_use_exported_metrics_and_are_balanced(expr: str) -> None:
    for name in re.findall(r"\bupdraft_[a-z_]+", expr):
        assert name in exported(), f"{name} is not an Updraft metric"
    for open_, close in ("()", "{}", "[]"):
        assert expr.count(open_) == expr.count(close), expr


def test_alerts_are_complete_and_link_existing_runbooks() -> None:
    operations = (TOP / "docs" / "operations.md").read_text()
    anchors = {h.strip().lower() for h in re.findall(r"^### (\S+)$", operations, flags=re.M)}
    names = [r["alert"] for r in RULES]
    assert len(names) == len(set(names))
    assert {"UpdraftRunsFailing", "UpdraftScheduleDelayHigh", "UpdraftOperatorDown", "UpdraftQueueSaturated"} <= set(names)
    for rule in RULES:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
        assert anchor == rule["alert"].lower() and anchor in anchors, f"no runbook section for {rule['alert']}"


def test_dashboard_panels_are_distinct_described_and_use_the_datasource_variable() -> None:
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    assert DASHBOARD["uid"] == "updraft-overview"
    assert {v["name"] for v in DASHBOARD["templating"]["list"]} == {"datasource", "workflow"}
    for panel in PANELS:
        assert panel["description"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
