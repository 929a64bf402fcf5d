"""The fixture corpus: valid files (hand-written and converter output) pass; the graph is right."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from updraft.definition import content_version, from_dict, to_dict, validate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "definitions"
VALID = sorted((FIXTURES / "valid").glob("*.yaml")) + sorted((FIXTURES / "converter").glob("*.yaml"))


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture(path: Path) -> None:
    result = validate(path.read_text())
    assert result.ok, [str(e) for e in result.errors]


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_round_trip_and_stable_version(path: Path) -> None:
    graph = validate(path.read_text()).graph
    assert graph is not None
    again = from_dict(json.loads(json.dumps(to_dict(graph))))
    assert again == graph
    assert content_version(again) == content_version(graph)
    assert len(content_version(graph)) == 32 and content_version(graph).islower()


def test_guide_form_graph() -> None:
    g = validate((FIXTURES / "valid" / "guide_simplified.yaml").read_text()).graph
    assert g is not None
    assert list(g.tasks) == ["extract_data", "transform_data", "load_data"]
    assert g.tasks["load_data"].upstream == ("transform_data",)
    assert g.tasks["extract_data"].operator == "airflow.providers.amazon.aws.operators.s3.S3ListOperator"
    assert g.schedule == "0 2 * * *"
    norm = g.normalized["my_data_pipeline"]
    assert norm["schedule"] == "0 2 * * *" and "schedule_interval" not in norm
    assert norm["tasks"]["transform_data"]["dependencies"] == ["extract_data"]
    assert "depends_on" not in norm["tasks"]["transform_data"]


def test_task_groups_graph() -> None:
    g = validate((FIXTURES / "valid" / "task_groups.yaml").read_text()).graph
    assert g is not None
    up = {t: set(task.upstream) for t, task in g.tasks.items()}
    assert up["extract.pull_a"] == {"begin"} and up["extract.pull_b"] == {"begin"}
    # group `transform` depends on group `extract`: its roots wait for extract's leaves
    assert up["transform.crawl"] == {"extract.pull_a", "extract.pull_b"}
    assert up["transform.checks.quality"] == {"transform.crawl"}
    # a task depending on a group waits for the group's leaves
    assert up["finish"] == {"transform.checks.quality"}
    assert g.tasks["finish"].trigger_rule == "all_done"
    assert g.tasks["extract.pull_a"].retries == 1 and g.tasks["extract.pull_a"].retry_delay == timedelta(seconds=60)
    assert list(g.tasks)[0] == "begin"


def test_content_version_ignores_formatting_but_not_content() -> None:
    a = "d:\n  schedule: '@daily'\n  tasks:\n    t: {operator: S3ListOperator, bucket: b}\n"
    b = "# comment\nd:\n  tasks:\n    t:\n      bucket: b\n      operator: S3ListOperator\n  schedule: '@daily'\n"
    c = a.replace("bucket: b", "bucket: c")
    va, vb, vc = (content_version(validate(x).graph) for x in (a, b, c))  # type: ignore[arg-type]
    assert va == vb
    assert va != vc
