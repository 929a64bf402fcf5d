"""NextTokens, ARNs and the names behind them."""

from __future__ import annotations

import pytest

from updraft import arns
from updraft.api import errors
from updraft.api.pagination import PageTokens, page
from updraft.model.names import manual_run_name, workflow_object_name, ANNOTATION_API_NAME

KEY = b"k" * 32


def _walk(items, limit, tokens, scope="s"):
    pages, after = [], None
    while True:
        chunk = page(items, str, after, limit)
        pages.append(chunk.items)
        if chunk.next_after is None:
            return pages
        after = tokens.decode(tokens.encode(scope, chunk.next_after), scope)


@pytest.mark.parametrize("n,limit,expected_pages", [(0, 3, 1), (3, 3, 1), (4, 3, 2), (7, 2, 4)])
def test_pages_cover_every_item_once_in_order(n, limit, expected_pages):
    items = [f"w{i:02d}" for i in range(n)]
    pages = _walk(list(reversed(items)), limit, PageTokens(KEY))
    assert len(pages) == expected_pages
    assert [x for p in pages for x in p] == items


def test_items_added_between_pages_do_not_repeat_or_shift_others():
    tokens = PageTokens(KEY)
    first = page(["a", "c", "e"], str, None, 2)
    assert first.items == ["a", "c"]
    after = tokens.decode(tokens.encode("s", first.next_after), "s")
    assert page(["a", "b", "c", "d", "e"], str, after, 2).items == ["d", "e"]


def test_a_token_cannot_be_edited_forged_or_used_for_another_list():
    tokens = PageTokens(KEY)
    good = tokens.encode("ListWorkflowRuns|arn1", "x")
    assert tokens.decode(good, "ListWorkflowRuns|arn1") == "x"
    for bad in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "not-a-token", "",
                PageTokens(b"o" * 32).encode("ListWorkflowRuns|arn1", "x")):
        with pytest.raises(errors.ApiError) as e:
            tokens.decode(bad, "ListWorkflowRuns|arn1")
        assert e.value.code == "ValidationException" and e.value.members["FieldList"][0]["Name"] == "NextToken"
    with pytest.raises(errors.ApiError, match="different list request"):
        tokens.decode(good, "ListWorkflowRuns|arn2")


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        PageTokens(b"short")


def test_arns_match_the_model_pattern_and_parse_back():
    import re

    from updraft.api import model

    pattern = model.service_model().shape_for("WorkflowArn").metadata["pattern"]
    arn = arns.workflow_arn("eu-west-1", "123456789012", "Daily_ETL.v2", "uid-1")
    assert re.fullmatch(pattern, arn)
    ref = arns.parse_workflow_arn(arn)
    assert ref is not None and (ref.region, ref.account, ref.name, ref.suffix) == (
        "eu-west-1", "123456789012", "Daily_ETL.v2", arns.arn_suffix("uid-1"))
    assert arns.workflow_arn("eu-west-1", "123456789012", "x", "uid-2") != arns.workflow_arn("eu-west-1", "123456789012", "x", "uid-1")


@pytest.mark.parametrize("bad", ["", "arn:aws:airflow-serverless:us-east-1:123456789012:workflow/name",
                                 "arn:aws:airflow-serverless:us-east-1:12345:workflow/name-abcdefghij",
                                 "arn:aws:s3:::bucket"])
def test_malformed_arns_do_not_parse(bad):
    assert arns.parse_workflow_arn(bad) is None


@pytest.mark.parametrize("name", ["daily", "Daily_ETL", "a.b", "x" * 255])
def test_api_names_map_to_distinct_valid_object_names(name):
    obj = workflow_object_name(name)
    assert len(obj) <= 63 and obj == obj.lower() and obj.replace("-", "").isalnum()
    assert (obj == name) == (name == "daily")


def test_names_differing_only_in_case_get_different_objects():
    assert workflow_object_name("Daily") != workflow_object_name("daily") != workflow_object_name("DAILY")


def test_api_name_comes_from_the_annotation_when_present():
    plain = {"metadata": {"name": "daily", "uid": "u"}}
    named = {"metadata": {"name": "daily-etl-1a2b3c4d", "uid": "u", "annotations": {ANNOTATION_API_NAME: "Daily_ETL"}}}
    assert arns.api_name(plain) == "daily" and arns.api_name(named) == "Daily_ETL"


def test_manual_run_names_are_deterministic_per_request_and_valid_labels():
    a = manual_run_name("daily", "uid/token-1")
    assert a == manual_run_name("daily", "uid/token-1") != manual_run_name("daily", "uid/token-2")
    assert a.startswith("daily-m-") and len(a) <= 63
    long = manual_run_name("w" * 80, "uid/token")
    assert len(long) <= 63 and "-m-" in long and long != manual_run_name("w" * 81, "uid/token")
