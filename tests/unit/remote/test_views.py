"""What the API commands print: tables, detail views and --watch lines, from API answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from updraft.remote.fire import FirePreview
from updraft.remote.follow import Change
from updraft.remote.render import age, duration, first_line, plain, table, to_json
from updraft.remote.views import (change_json, change_line, ended_text, run_seconds, runs_table, stopped_text,
                                  tasks_table, workflow_text, workflows_table)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/daily_etl-a1b2c3d4e5"


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def test_table_aligns_columns_and_shows_missing_values_as_dashes() -> None:
    assert table(["A", "LONGER"], [["xyz", None], ["", 7]]) == "A    LONGER\nxyz  -\n-    7"


def test_durations_and_ages_use_two_units_at_most() -> None:
    assert [duration(s) for s in (0, 59, 61, 3599, 3600 + 125, 86400 * 3 + 3600 * 5 + 7)] == [
        "0s", "59s", "1m01s", "59m59s", "1h02m", "3d05h"]
    assert age(ago(minutes=3), NOW) == "3m00s" and age(NOW + timedelta(seconds=5), NOW) == "0s"
    assert age(None, NOW) is None and duration(None) is None


def test_first_line_skips_blank_lines_and_cuts() -> None:
    assert first_line("\n  Traceback x\nmore") == "Traceback x"
    assert first_line("a" * 100, 10) == "a" * 9 + "…"


def test_plain_json_drops_response_metadata_and_writes_utc_instants() -> None:
    doc = {"ResponseMetadata": {"HTTPStatusCode": 200},
           "CreatedAt": datetime(2026, 12, 2, 11, 0, tzinfo=timezone(timedelta(hours=1))), "L": [ago(seconds=1)]}
    assert plain(doc) == {"CreatedAt": "2026-12-02T10:00:00Z", "L": ["2026-12-02T09:59:59Z"]}
    assert json.loads(to_json(doc))["CreatedAt"] == "2026-12-02T10:00:00Z"


def test_workflows_table_sorted_by_name_wide_adds_the_arn() -> None:
    wfs = [{"Name": "zeta", "TriggerMode": "manual_only", "WorkflowStatus": "READY", "ModifiedAt": ago(hours=2)},
           {"Name": "alpha", "WorkflowArn": ARN, "TriggerMode": "scheduled", "WorkflowStatus": "READY",
            "WorkflowVersion": "v1", "CreatedAt": ago(seconds=30), "Description": "line one\nline two"}]
    lines = workflows_table(wfs, NOW).splitlines()
    assert lines[0].split() == ["NAME", "TRIGGER", "STATUS", "VERSION", "MODIFIED"]
    assert lines[1].split() == ["alpha", "scheduled", "READY", "v1", "30s"]
    assert lines[2].split() == ["zeta", "manual_only", "READY", "-", "2h00m"]
    wide = workflows_table(wfs, NOW, wide=True).splitlines()
    assert wide[1].split()[-3:] == [ARN, "line", "one"]


def test_workflow_text_shows_the_schedule_in_its_zone_and_the_fire_times() -> None:
    fire = FirePreview("30 2 * * *", "Europe/Paris", [datetime(2026, 12, 3, 1, 30, tzinfo=timezone.utc)])
    text = workflow_text({"Name": "daily_etl", "WorkflowArn": ARN, "WorkflowStatus": "READY",
                          "CreatedAt": ago(days=1), "Environment": {"Variables": {"B": "x", "A": "y"}},
                          "DefinitionS3Location": {"Bucket": "b", "ObjectKey": "k.yaml"}}, fire, NOW)
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    assert "Schedule: 30 2 * * * (Europe/Paris)" in lines
    assert "Created: 2026-12-01T10:00:00Z (1d00h ago)" in lines
    assert "Environment: A, B" in lines and "Definition: s3://b/k.yaml" in lines
    assert len({ln.index(":") + len(ln[ln.index(":") + 1:]) - len(ln[ln.index(":") + 1:].lstrip())
                for ln in text.splitlines()[:6]}) == 1  # values aligned
    assert text.endswith("Next fire times:\n  2026-12-03T01:30:00Z  Thu 2026-12-03 02:30 CET")
    assert "Role" not in text  # absent fields are left out
    none = workflow_text({"Name": "x"}, FirePreview(None, "UTC", [], "no schedule (runs start on demand only)"), NOW)
    assert none.endswith("Schedule:  none\nNext fire times: none (no schedule (runs start on demand only))")


def test_runs_table_shows_running_durations_up_to_now() -> None:
    runs = [{"RunId": "r2", "RunType": "ON_DEMAND", "WorkflowVersion": "v2",
             "RunDetailSummary": {"Status": "RUNNING", "CreatedOn": ago(minutes=5), "StartedAt": ago(minutes=4)}},
            {"RunId": "r1", "RunType": "SCHEDULED", "RunDetailSummary": {
                "Status": "SUCCESS", "CreatedOn": ago(hours=3), "StartedAt": ago(hours=3),
                "EndedAt": ago(hours=3) + timedelta(seconds=65)}}]
    lines = runs_table(runs, NOW).splitlines()
    assert lines[0].split() == ["RUN", "STATE", "TYPE", "VERSION", "AGE", "DURATION"]
    assert lines[1].split() == ["r2", "RUNNING", "ON_DEMAND", "v2", "5m00s", "4m00s"]
    assert lines[2].split() == ["r1", "SUCCESS", "SCHEDULED", "-", "3h00m", "1m05s"]


def test_tasks_in_start_order_with_the_first_line_of_their_error() -> None:
    tasks = [{"TaskInstanceId": "r1.load", "Status": "NONE"},
             {"TaskId": "transform", "Status": "FAILED", "AttemptNumber": 2, "StartedAt": ago(minutes=1),
              "DurationInSeconds": 12, "OperatorName": "BashOperator", "ErrorMessage": "\nKeyError: 'x'\ntrace"},
             {"TaskId": "extract", "Status": "SUCCESS", "AttemptNumber": 1, "StartedAt": ago(minutes=3),
              "EndedAt": ago(minutes=2)}]
    lines = tasks_table(tasks, "r1", NOW).splitlines()
    assert [ln.split()[0] for ln in lines] == ["TASK", "extract", "transform", "load"]
    assert lines[1].split() == ["extract", "SUCCESS", "1", "2026-12-02T09:57:00Z", "1m00s", "-", "-"]
    assert lines[2].split()[:6] == ["transform", "FAILED", "2", "2026-12-02T09:59:00Z", "12s", "BashOperator"]
    assert lines[2].endswith("KeyError: 'x'")
    assert lines[3].split() == ["load", "NONE", "-", "-", "-", "-", "-"]


def test_watch_lines_and_their_json_form() -> None:
    change = Change("transform", "RUNNING", "UP_FOR_RETRY")
    detail = {"AttemptNumber": 1, "ErrorMessage": "boom\nmore"}
    assert change_line(change, NOW, "r1", detail) == "10:00:00Z  task transform  RUNNING -> UP_FOR_RETRY (attempt 1): boom"
    assert change_line(Change(None, None, "RUNNING"), NOW, "r1") == "10:00:00Z  run r1  - -> RUNNING"
    assert plain(change_json(change, NOW, "r1", detail)) == {
        "Event": "StateChanged", "Time": "2026-12-02T10:00:00Z", "RunId": "r1", "TaskId": "transform", "From": "RUNNING", "To": "UP_FOR_RETRY",
        "AttemptNumber": 1, "ErrorMessage": "boom\nmore"}


def test_end_and_stop_messages() -> None:
    assert ended_text("r1", "FAILED", 65) == "run r1 ended FAILED after 1m05s"
    assert ended_text("r1", "STOPPED", None) == "run r1 ended STOPPED"
    assert run_seconds({"RunDetail": {"Duration": 7, "StartedOn": ago(hours=1), "CompletedOn": NOW}}) == 7
    assert run_seconds({"RunDetail": {"StartedOn": ago(seconds=90), "CompletedOn": NOW}}) == 90
    assert run_seconds({"RunDetail": {"StartedOn": ago(seconds=90)}}) is None
    assert stopped_text("r1", "STOPPING") == "run r1 is STOPPING"
    assert stopped_text("r1", "SUCCESS") == "run r1 had already ended SUCCESS; nothing to stop"
