"""Next fire times from a GetWorkflow answer: the API's cron, the definition's zone and bounds."""

from __future__ import annotations

from datetime import datetime, timezone

from updraft.remote.fire import preview

NOW = datetime(2026, 3, 27, 12, 0, tzinfo=timezone.utc)
PARIS = """
nightly:
  schedule: "30 2 * * *"
  timezone: Europe/Paris
  tasks:
    t: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""


def _wf(cron: str | None, definition: str | None = PARIS, mode: str = "scheduled", **more: object) -> dict:
    return {"ScheduleConfiguration": {"CronExpression": cron} if cron else None, "WorkflowDefinition": definition,
            "TriggerMode": mode, "WorkflowStatus": "READY", **more}


def test_the_cron_runs_on_the_definitions_wall_clock_across_a_dst_change() -> None:
    p = preview(_wf("30 2 * * *"), NOW, 3)
    assert p.timezone == "Europe/Paris" and p.note is None
    # 28 March 02:30 CET = 01:30Z; 29 March 02:30 does not exist (spring forward): fires at 03:30 CEST = 01:30Z;
    # 30 March 02:30 CEST = 00:30Z
    assert [t.strftime("%d %H:%M") for t in p.times] == ["28 01:30", "29 01:30", "30 00:30"]


def test_end_date_bounds_the_preview() -> None:
    bounded = PARIS.replace("  tasks:", "  end_date: 2026-03-29\n  tasks:")
    p = preview(_wf("30 2 * * *", bounded), NOW, 5)
    assert len(p.times) == 1 and "no more fire times" in (p.note or "")


def test_no_times_when_manual_or_unscheduled_with_the_reason() -> None:
    assert preview(_wf(None), NOW, 5).note == "no schedule (runs start on demand only)"
    p = preview(_wf("@daily", mode="manual_only"), NOW, 5)
    assert p.times == [] and "manual_only" in (p.note or "")
    assert preview(_wf("@daily", WorkflowStatus="DELETING"), NOW, 5).times == []


def test_without_a_readable_definition_utc_is_assumed_and_said() -> None:
    p = preview(_wf("0 6 * * *", None), NOW, 1)
    assert p.timezone == "UTC" and p.times == [datetime(2026, 3, 28, 6, tzinfo=timezone.utc)]
    assert "no definition" in (p.note or "")
    p = preview(_wf("0 6 * * *", "not: [valid"), NOW, 1)
    assert p.timezone == "UTC" and "could not be read" in (p.note or "")


def test_a_cron_the_schedule_code_refuses_is_a_note_not_a_crash() -> None:
    p = preview(_wf("0 0 31 2 *", None), NOW, 2)
    assert p.times == [] and "cannot compute fire times" in (p.note or "")
