"""The AWS JSON 1.0 layer and the model-driven request checks, against what botocore itself sends
and expects: requests are built by botocore's own serializer, answers parsed by its own parser."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import botocore.session
import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from updraft.api import errors, model, protocol


def _serialize(operation: str, params: dict) -> dict:
    om = model.operation(operation)
    return create_serializer("json").serialize_to_request(params, om)


def _parse(operation: str, status: int, body: bytes) -> dict:
    om = model.operation(operation)
    return create_parser("json").parse({"status_code": status, "headers": {}, "body": body}, om.output_shape)


def test_target_names_the_operation_as_botocore_sends_it():
    request = _serialize("ListWorkflows", {"MaxResults": 5})
    assert protocol.target_operation(request["headers"]["X-Amz-Target"]) == "ListWorkflows"
    assert protocol.decode_body(request["body"]) == {"MaxResults": 5}


@pytest.mark.parametrize("target", [None, "", "AmazonMWAAServerless.DropTables", "OtherService.ListWorkflows"])
def test_unknown_or_missing_target_is_a_validation_error_naming_the_reason(target):
    with pytest.raises(errors.ApiError) as e:
        protocol.target_operation(target)
    assert e.value.code == "ValidationException" and e.value.members["Reason"] == "unknownOperation"
    assert e.value.status == 400


@pytest.mark.parametrize("body", [b"{", b"[1,2]", b"\xff\xfe"])
def test_bodies_that_are_not_a_json_object_cannot_be_parsed(body):
    with pytest.raises(errors.ApiError) as e:
        protocol.decode_body(body)
    assert e.value.members["Reason"] == "cannotParse"


def test_timestamps_are_iso8601_and_botocore_reads_them_back():
    when = datetime(2026, 11, 22, 8, 30, 15, 250000, tzinfo=timezone.utc)
    body = protocol.encode_output("StartWorkflowRun", {"RunId": "r1", "Status": "STARTING", "StartedAt": when,
                                                       "NotInModel": "dropped", "Empty": None})
    assert json.loads(body) == {"RunId": "r1", "Status": "STARTING", "StartedAt": "2026-11-22T08:30:15.250Z"}
    parsed = _parse("StartWorkflowRun", 200, body)
    assert parsed["StartedAt"] == when and parsed["RunId"] == "r1"


def test_documents_in_override_parameters_pass_through_unchanged():
    body = protocol.encode_output("GetWorkflowRun", {"OverrideParameters": {"n": 3, "nested": {"a": [1, "b"]}}})
    assert _parse("GetWorkflowRun", 200, body)["OverrideParameters"] == {"n": 3, "nested": {"a": [1, "b"]}}


@pytest.mark.parametrize("code,status", [("ValidationException", 400), ("AccessDeniedException", 403),
                                         ("ResourceNotFoundException", 404), ("ConflictException", 409),
                                         ("ThrottlingException", 429), ("InternalServerException", 500)])
def test_errors_reach_botocore_with_their_code_message_and_members(code, status):
    error = errors.ApiError(code, "it went wrong", {"ResourceId": "x", "ResourceType": "Workflow"})
    http_status, body = protocol.encode_error(error)
    assert http_status == status
    parsed = _parse("GetWorkflow", http_status, body)
    assert parsed["Error"]["Code"] == code and parsed["Error"]["Message"] == "it went wrong"


def test_every_error_code_the_model_declares_has_a_status():
    declared = {e.name for op in model.operation_names() for e in model.operation(op).error_shapes}
    assert declared <= set(errors.STATUS)


GOOD = {"Name": "daily_etl", "DefinitionS3Location": {"Bucket": "b", "ObjectKey": "k.yaml"},
        "RoleArn": "arn:aws:iam::123456789012:role/etl"}


def test_a_good_create_request_has_no_problems():
    assert model.check_input("CreateWorkflow", GOOD) == []
    # `.+` / `.*` take line breaks, as on AWS
    multiline = {**GOOD, "Description": "line one\nline two", "Tags": {"note": "a\nb"}}
    assert model.check_input("CreateWorkflow", multiline) == []


@pytest.mark.parametrize("change,field,fragment", [
    ({"Name": None}, "Name", "is required"),
    ({"Name": "has space"}, "Name", "pattern"),
    ({"Name": "ok\nsecond-line"}, "Name", "pattern"),  # the whole value must match, not a part
    ({"Name": "x" * 256}, "Name", "at most 255"),
    ({"RoleArn": "arn:aws:iam::1:role/x"}, "RoleArn", "pattern"),
    ({"DefinitionS3Location": {"Bucket": "b"}}, "DefinitionS3Location.ObjectKey", "is required"),
    ({"DefinitionS3Location": "s3://b/k"}, "DefinitionS3Location", "must be an object"),
    ({"EncryptionConfiguration": {"Type": "ROT13"}}, "EncryptionConfiguration.Type", "one of AWS_MANAGED_KEY"),
    ({"EngineVersion": "1"}, "EngineVersion", "whole number"),
    ({"EngineVersion": True}, "EngineVersion", "whole number"),
    ({"Tags": {f"k{i}": "v" for i in range(51)}}, "Tags", "at most 50 entries"),
    ({"Environment": {"Variables": {"1BAD": "v"}}}, "Environment.Variables key '1BAD'", "pattern"),
    ({"NetworkConfiguration": {"SubnetIds": ["subnet-ok", "vpc-1"]}}, "NetworkConfiguration.SubnetIds[1]", "pattern"),
    ({"Code": {}}, "Code", "exactly one of S3Location"),
])
def test_each_broken_member_is_named_with_its_rule(change, field, fragment):
    params = {**GOOD, **change}
    params = {k: v for k, v in params.items() if v is not None}
    problems = model.check_input("CreateWorkflow", params)
    assert any(p.name == field and fragment in p.message for p in problems), problems


def test_all_problems_are_reported_at_once_and_unknown_members_are_ignored():
    problems = model.check_input("ListWorkflowRuns", {"MaxResults": 0, "Unknown": 1})
    assert {p.name for p in problems} == {"MaxResults", "WorkflowArn"}
    assert errors.invalid_fields(problems).members["FieldList"][0].keys() == {"Name", "Message"}


def test_the_model_is_the_one_botocore_clients_use():
    client_model = botocore.session.get_session().create_client(
        "mwaa-serverless", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b").meta.service_model
    assert sorted(client_model.operation_names) == sorted(model.operation_names())
