"""The model: one timestamp format, names that round-trip, and the views' answers ("which version
does this run use", "is it final", "why is this workflow invalid")."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from updraft.model import names
from updraft.model.run import VersionChoice, WorkflowRun, choose_version
from updraft.model.states import RunState, TaskState
from updraft.model.times import format_ts, parse_ts
from updraft.model.workflow import Compiled, Workflow, source_digest

UTC = timezone.utc


def test_timestamps_have_one_format_and_any_offset_reads_as_utc() -> None:
    t = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert format_ts(t) == "2026-03-29T01:30:00Z" and parse_ts(format_ts(t)) == t
    assert parse_ts("2026-03-29T03:30:00+02:00") == t and parse_ts("2026-03-29T01:30:00") == t
    assert parse_ts(None) is None and parse_ts("") is None and format_ts(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ts(datetime(2026, 1, 1))


@pytest.mark.parametrize("key", ["value", "return_value", "weird key/with spaces", "ünïcode"])
def test_xcom_entry_keys_round_trip(key: str) -> None:
    data = {names.xcom_entry_key("load", key): '"v"', names.xcom_entry_key("load_more", key): '"w"'}
    assert names.xcom_entries_of_task(data, "load") == {key: '"v"'}
    assert all(c.isalnum() or c in "-._" for k in data for c in k)


def test_owner_references_name_updrafts_own_kinds() -> None:
    assert names.owner_ref("WorkflowRun", "r", "u") == {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
                                                         "name": "r", "uid": "u"}
    assert names.owner_ref("Workflow", "w", "u", controller=True, block_owner_deletion=True)["blockOwnerDeletion"]


def test_object_names_are_derived_from_what_identifies_them() -> None:
    assert names.version_object_name("etl", "a" * 32) == "etl-" + "a" * 32
    assert names.definition_configmap_name("etl-v") == "etl-v-definition"
    assert names.token_secret_name("etl-run-load-1") == "etl-run-load-1-token"
    assert names.xcom_configmap_name("etl-run") == "etl-run-xcom"
    assert len(names.identity_name("w" * 80)) <= 63 and names.identity_name("etl") == "updraft-wf-etl"
    assert names.workflow_object_name("Daily_ETL") != names.workflow_object_name("daily-etl")


def workflow(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None,
             annotations: dict[str, str] | None = None) -> Workflow:
    return Workflow.from_body({"metadata": {"name": "etl", "namespace": "d", "uid": "u", "generation": 2,
                                            "annotations": annotations or {}},
                               "spec": {"definition": "x: 1", **(spec or {})}, "status": status or {}})


def test_why_a_workflow_is_invalid() -> None:
    bad = {"conditions": [{"type": "DefinitionValid", "status": "False", "message": "tasks.a: unknown operator"}]}
    assert workflow(status=bad).invalid_reason == "tasks.a: unknown operator"
    assert workflow(status={"conditions": [{"type": "DefinitionValid", "status": "True"}]}).invalid_reason is None
    assert workflow().invalid_reason is None


def test_the_source_digest_follows_the_definition_source_only() -> None:
    base = workflow()
    assert workflow({"triggerMode": "disabled", "timezone": "Europe/Paris"}).source_digest == base.source_digest
    assert workflow({"definition": "x: 2"}).source_digest != base.source_digest


def test_the_apis_compile_record_counts_only_for_the_spec_it_was_made_for() -> None:
    record = Compiled(source_digest({"definition": "x: 1"}), "v" * 32, "s3v1")
    current = workflow(annotations={names.ANNOTATION_COMPILED: record.encode()})
    assert current.compiled == record
    assert workflow({"definition": "x: 2"}, annotations={names.ANNOTATION_COMPILED: record.encode()}).compiled is None
    assert workflow(annotations={names.ANNOTATION_COMPILED: "{not json"}).compiled is None


def run(status: dict[str, Any] | None = None, **spec: Any) -> WorkflowRun:
    return WorkflowRun.from_body({"metadata": {"name": "etl-m-1", "namespace": "d", "uid": "r",
                                               "creationTimestamp": "2026-01-01T00:00:00Z"},
                                  "spec": {"workflowName": "etl", **spec}, "status": status or {}})


def test_run_states_as_written_and_as_the_api_reports_them() -> None:
    assert run().run_state == "" and run().api_state == RunState.STARTING and run().is_waiting
    assert run({"runState": "STOPPED"}).is_final and not run({"runState": "STOPPING"}).is_final
    assert run().created_at == datetime(2026, 1, 1, tzinfo=UTC) and run().run_type == "ON_DEMAND"


LATEST = {"latestVersion": "b" * 32}
INVALID = {"conditions": [{"type": "DefinitionValid", "status": "False", "message": "bad"}]}
CHOICES = [
    ("recorded-wins", run({"workflowVersion": "a" * 32}, workflowVersion="c" * 32), workflow(status=LATEST),
     VersionChoice("a" * 32)),
    ("pinned-at-start", run(workflowVersion="c" * 32), workflow(status=LATEST), VersionChoice("c" * 32)),
    ("latest-when-unpinned", run(), workflow(status=LATEST), VersionChoice("b" * 32)),
    ("workflow-gone", run(), None, VersionChoice(error="workflow 'etl' not found")),
    ("invalid-definition", run(), workflow(status=INVALID), VersionChoice(error="bad")),
    ("not-validated-yet", run(), workflow(), VersionChoice()),
]


@pytest.mark.parametrize(("the_run", "the_workflow", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CHOICES])
def test_which_version_a_run_uses(the_run: WorkflowRun, the_workflow: Workflow | None, expected: VersionChoice) -> None:
    assert choose_version(the_run, the_workflow) == expected


def test_task_states_the_api_model_lacks_are_none() -> None:
    assert TaskState.to_api(TaskState.SKIPPED) == "NONE" and TaskState.to_api(None) == "NONE"
    assert TaskState.to_api(TaskState.UPSTREAM_FAILED) == "UPSTREAM_FAILED"
    assert TaskState.FINAL >= {TaskState.SKIPPED} and not (TaskState.FINAL & TaskState.ACTIVE)
