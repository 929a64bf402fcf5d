"""Option parsing of the API commands: run parameters, durations, workflow references, endpoints."""

from __future__ import annotations

import pytest

from updraft.remote.exits import NOT_FOUND, USAGE, CliError
from updraft.remote.options import (check_endpoint, match_workflow, parse_duration, parse_parameters,
                                    parse_run_id, parse_workflow)

ARN = "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/daily_etl-a1b2c3d4e5"


def test_parameters_are_strings_unless_given_as_json() -> None:
    assert parse_parameters(["day=2026-12-01", "limit:=500", "dry_run:=true", "tags:=[\"a\",1]", "empty=",
                             "expr=a=b"]) == {
        "day": "2026-12-01", "limit": 500, "dry_run": True, "tags": ["a", 1], "empty": "", "expr": "a=b"}
    assert parse_parameters(["n=3"]) == {"n": "3"}  # a string: no guessing from the value


@pytest.mark.parametrize("items, words", [
    (["novalue"], ["'novalue'", "key=value"]),
    (["=x"], ["key ''"]),
    (["1abc=x"], ["'1abc'", "start with a letter"]),
    (["a=1", "a:=2"], ["'a'", "twice"]),
    (["n:=tru"], ["'n:=tru'", "not JSON", "key=value for a string"]),
])
def test_bad_parameters_name_the_item_and_the_rule(items: list[str], words: list[str]) -> None:
    with pytest.raises(CliError) as e:
        parse_parameters(items)
    assert e.value.code == USAGE and e.value.message.startswith("-p ")
    for w in words:
        assert w in e.value.message


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("1.5h", 5400),
                                           ("2h5s", 7205), (" 0.5 ", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "--timeout") == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "m", "0", "-3", "0s", "inf", "nan", "1h-5m"])
def test_bad_durations_name_the_option(text: str) -> None:
    with pytest.raises(CliError) as e:
        parse_duration(text, "--timeout")
    assert e.value.code == USAGE and e.value.message.startswith("--timeout")


def test_workflow_reference_is_an_arn_or_a_name() -> None:
    assert parse_workflow(ARN).arn == ARN
    ref = parse_workflow(" daily_etl ")
    assert ref.arn is None and ref.text == "daily_etl" and ref.label == "workflow 'daily_etl'"
    for bad in ("arn:aws:s3:::bucket", "arn:aws:airflow-serverless:us-east-1:123:workflow/x-a1b2c3d4e5", "  "):
        with pytest.raises(CliError) as e:
            parse_workflow(bad)
        assert e.value.code == USAGE and "WORKFLOW" in e.value.message


WORKFLOWS = [{"Name": "daily_etl", "WorkflowArn": ARN},
             {"Name": "hourly", "WorkflowArn": ARN.replace("daily_etl", "hourly")},
             {"Name": "Hourly", "WorkflowArn": ARN.replace("daily_etl", "Hourly")}]


def test_a_name_matches_exactly_then_case_insensitively() -> None:
    assert match_workflow(parse_workflow("daily_etl"), WORKFLOWS)["WorkflowArn"] == ARN
    assert match_workflow(parse_workflow("DAILY_ETL"), WORKFLOWS)["WorkflowArn"] == ARN
    assert match_workflow(parse_workflow("Hourly"), WORKFLOWS)["Name"] == "Hourly"


def test_unknown_and_ambiguous_names() -> None:
    with pytest.raises(CliError) as e:
        match_workflow(parse_workflow("daily"), WORKFLOWS)
    assert e.value.code == NOT_FOUND and e.value.message == "unknown workflow 'daily'; did you mean daily_etl?"
    with pytest.raises(CliError) as e:
        match_workflow(parse_workflow("weekly"), WORKFLOWS)
    assert "unknown workflow 'weekly'; 3 workflow(s) visible" in e.value.message
    with pytest.raises(CliError) as e:
        match_workflow(parse_workflow("HOURLY"), WORKFLOWS)
    assert e.value.code == USAGE and "ambiguous" in e.value.message and "give the ARN" in e.value.message


def test_endpoint_must_be_configured_and_an_http_url() -> None:
    assert check_endpoint(" http://localhost:8443 ", "--endpoint-url") == "http://localhost:8443"
    with pytest.raises(CliError) as e:
        check_endpoint(None, "UPDRAFT_ENDPOINT_URL")
    assert e.value.code == USAGE and "--endpoint-url" in e.value.message and "UPDRAFT_ENDPOINT_URL" in e.value.message
    for bad in ("localhost:8443", "ftp://x", "http://", "http://[bad"):
        with pytest.raises(CliError) as e:
            check_endpoint(bad, "UPDRAFT_ENDPOINT_URL")
        assert e.value.message.startswith(f"UPDRAFT_ENDPOINT_URL {bad!r}")


def test_run_ids_follow_the_models_pattern() -> None:
    assert parse_run_id(" daily-etl-m-d50b669be6a0 ") == "daily-etl-m-d50b669be6a0"
    assert parse_run_id("scheduled__2026-12-02T01.30") == "scheduled__2026-12-02T01.30"
    for bad in ("", "-r1", "r 1", "r/1", "x" * 256):
        with pytest.raises(CliError) as e:
            parse_run_id(bad)
        assert e.value.code == USAGE and e.value.message.startswith("RUN ")
