"""The fixture corpus: valid files (hand-written and converter output) pass; the graph is right."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from updraft.definition import content_version, from_dict, to_dict, validate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "definitions"
EXAMPLES = Path(__file__).parents[3] / "examples"
CONVERTED = sorted((FIXTURES / "converter").glob("*.yaml")) + sorted(EXAMPLES.glob("*/dag/*.yaml"))
VALID = sorted((FIXTURES / "valid").glob("*.yaml")) + CONVERTED
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))


def _expected(path: Path) -> set[tuple[str, str]]:
    """The `# expect: PATH [rule]` header lines of an invalid fixture."""
    out = set()
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            where, _, rule = line[len("# expect: "):].rpartition(" [")
            out.add((where, rule.rstrip("]")))
    return out


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture(path: Path) -> None:
    result = validate(path.read_text())
    assert result.ok, [str(e) for e in result.errors]


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_fails_exactly_its_rule(path: Path) -> None:
    """Each file breaks one rule (sometimes two, both named): exactly those errors, nothing else."""
    expected = _expected(path)
    assert expected, f"{path.name} has no '# expect: PATH [rule]' line"
    result = validate(path.read_text())
    assert result.graph is None and not result.ok
    assert {(e.path, e.rule) for e in result.errors} == expected, [str(e) for e in result.errors]


def test_converter_files_only_warn_about_what_matters() -> None:
    """The converter writes every default out; none of that may make a file noisy. What is left is
    real: a past start_date (with a clock) and the one non-default ignored parameter (tags)."""
    from datetime import datetime, timezone

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    found = {}
    for path in CONVERTED:
        found[path.stem] = tuple(sorted({w.rule for w in validate(path.read_text(), now=now).warnings}))
    assert set(found.values()) <= {("start-date-past",), ("ignored-parameter", "start-date-past")}
    assert [w.path for w in validate((FIXTURES / "converter" / "scheduled_with_params.yaml").read_text()).warnings] == [
        "scheduled_with_params.tags"]


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
    # default_args: DAG < group < nested group < the task's own value
    assert (g.tasks["begin"].retries, g.tasks["begin"].retry_delay) == (1, timedelta(seconds=60))
    assert (g.tasks["extract.pull_a"].retries, g.tasks["extract.pull_a"].retry_delay) == (2, timedelta(seconds=60))
    assert g.tasks["extract.pull_b"].retries == 0
    assert g.tasks["transform.crawl"].retry_delay == timedelta(seconds=90)
    assert (g.tasks["transform.checks.quality"].retries, g.tasks["transform.checks.quality"].retry_delay) == (
        3, timedelta(seconds=90))
    # a group's other default_args stay default_args (Airflow gives them to operators that take them)
    assert "bucket" not in g.tasks["extract.pull_a"].arguments
    assert g.normalized["etl_groups"]["task_groups"]["extract"]["default_args"] == {"bucket": "raw"}
    assert g.normalized["etl_groups"]["default_args"] == {"aws_conn_id": None}
    assert list(g.tasks)[0] == "begin"


def test_content_version_ignores_formatting_but_not_content() -> None:
    a = "d:\n  schedule: '@daily'\n  tasks:\n    t: {operator: S3ListOperator, bucket: b}\n"
    b = "# comment\nd:\n  tasks:\n    t:\n      bucket: b\n      operator: S3ListOperator\n  schedule: '@daily'\n"
    c = a.replace("bucket: b", "bucket: c")
    va, vb, vc = (content_version(validate(x).graph) for x in (a, b, c))  # type: ignore[arg-type]
    assert va == vb
    assert va != vc
    assert content_version(a) == va  # text or graph
    # a change Updraft drops (an ignored parameter) is not a new version; a dependency order is not either
    assert content_version(a.replace("bucket: b}", "bucket: b, priority_weight: 7}")) == va
    d1 = "d:\n  tasks:\n    a: {operator: EmptyOperator}\n    b: {operator: EmptyOperator}\n" \
         "    c: {operator: EmptyOperator, dependencies: [a, b]}\n"
    assert content_version(d1) == content_version(d1.replace("[a, b]", "[b, a]"))


def test_sensors_and_shared_defaults_graph() -> None:
    g = validate((FIXTURES / "valid" / "sensors_trigger_rules.yaml").read_text()).graph
    assert g is not None
    # the file's top-level `default` block applies to its DAG; the task's own value wins
    assert g.max_active_runs == 3
    assert (g.tasks["load"].retries, g.tasks["load"].retry_delay) == (2, timedelta(minutes=1))
    assert g.tasks["wait_for_job"].retries == 0
    export, job = g.tasks["wait_for_export"], g.tasks["wait_for_job"]
    assert (export.mode, export.poke_interval, export.sensor_timeout) == (
        "reschedule", timedelta(minutes=5), timedelta(hours=6))
    assert (job.mode, job.poke_interval, job.sensor_timeout) == ("poke", timedelta(seconds=30), timedelta(seconds=1800))
    assert {t: g.tasks[t].trigger_rule for t in ("alert", "publish", "cleanup")} == {
        "alert": "one_failed", "publish": "none_failed_min_one_success", "cleanup": "all_done"}
    assert g.tasks["load"].execution_timeout == timedelta(minutes=45)
    assert (g.timezone, g.schedule) == ("Europe/Paris", "0 7 * * 1-5")
    assert g.end_date is not None and g.start_date is not None and g.start_date.utcoffset() == timedelta(0)
    assert list(g.tasks)[-1] == "cleanup"


def test_converter_nested_groups_graph() -> None:
    g = validate((FIXTURES / "converter" / "nested_groups_backoff.yaml").read_text()).graph
    assert g is not None
    assert list(g.tasks) == ["begin", "catalog.crawl.run", "catalog.crawl.wait", "catalog.announce", "end"]
    run = g.tasks["catalog.crawl.run"]
    assert (run.retries, run.retry_delay, run.retry_exponential_backoff, run.max_retry_delay) == (
        3, timedelta(seconds=20), True, timedelta(minutes=4))
    assert g.tasks["end"].execution_timeout == timedelta(minutes=15)  # from default_args
    assert g.tasks["catalog.crawl.wait"].mode == "poke"
    assert g.tasks["end"].trigger_rule == "none_failed" and g.max_active_runs == 1


def test_both_forms_of_one_workflow_have_one_version() -> None:
    simplified = "dag_id: d\nschedule_interval: '@daily'\ntasks:\n  a: {operator: S3ListOperator, bucket: b}\n" \
                 "  z: {operator: EmptyOperator, depends_on: [a]}\n"
    dagfactory = ("d:\n  schedule: '@daily'\n  tasks:\n"
                  "    z: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [a]}\n"
                  "    a: {operator: airflow.providers.amazon.aws.operators.s3.S3ListOperator, bucket: b}\n")
    assert content_version(simplified) == content_version(dagfactory)


def test_content_version_of_invalid_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="retries-range"):
        content_version("d:\n  tasks:\n    t: {operator: EmptyOperator, retries: 9}\n")
