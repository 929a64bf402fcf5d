"""CloudTrail-shaped audit records: the guide's CreateWorkflow example rebuilt from a wire request and
response, identities, errors, read-only calls, redaction of the model's sensitive shapes, and the
one-line-per-record writer."""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest

from updraft.api.audit import (HIDDEN, AuditLog, event, redact, sensitive_paths, trail_value, user_identity)

SHAPES = botocore.session.get_session().get_component("data_loader").load_service_model(
    "mwaa-serverless", "service-2")["shapes"]
NOW = datetime(2025, 11, 3, 23, 31, 54, 406_000, tzinfo=timezone.utc)
ACCOUNT = "111122223333"
WF = "arn:aws:airflow-serverless:us-east-1:111122223333:workflow/my-mwaa-serverless-workflow-Tc2lQzso0N"
ROLE = "arn:aws:iam::111122223333:role/mwaa-serverless-role"
USER = "arn:aws:iam::111122223333:user/alice"
KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/37edb8d7-ff19-4456-9b65-cbef9c61b53f"


def record(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(operation="GetWorkflow", principal_arn=USER, access_key_id="AKIAIOSFODNN7EXAMPLE",
                                source_ip="192.0.2.1", user_agent="aws-cli/2.28.17", request_parameters=None,
                                response_elements=None, error_code=None, error_message=None, region="us-east-1",
                                account_id=ACCOUNT, now=NOW, request_id="r-1", event_id="e-1")
    return event(**{**args, **overrides})


def test_the_guides_create_workflow_record() -> None:
    """The guide's example record (Logging Amazon MWAA Serverless APIs with CloudTrail), from the wire request."""
    request = {"Name": "my-mwaa-serverless-workflow", "ClientToken": "c52de4a9-4f0f-4c87-af44-0fc9417e0765",
               "DefinitionS3Location": {"Bucket": "amzn-s3-demo-bucket",
                                        "ObjectKey": "my-mwaa-serverless-workflow.yml"},
               "RoleArn": "arn:aws:iam::111122223333:role/mwaa-serverless-workflow-role",
               "EncryptionConfiguration": {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": KMS_KEY},
               "LoggingConfiguration": {"LogGroupName": "my-mwaa-serverless-workflow-log-group"},
               "TriggerMode": "manual_only"}
    response = {"WorkflowArn": WF, "CreatedAt": NOW.timestamp(), "RevisionId": "41f42323-f8cb-463b-a7d7-3d1a9d16cdea",
                "WorkflowVersion": "7a1bf53101df1c62969f81221c58c5f7"}
    rec = record(operation="CreateWorkflow", principal_arn=ROLE, access_key_id="ASIAIOSFODNN7EXAMPLE",
                 request_parameters=trail_value(SHAPES, "CreateWorkflowRequest", request),
                 response_elements=trail_value(SHAPES, "CreateWorkflowResponse", response),
                 request_id="14f37e54-e6f3-49f7-97fb-bd32b578c68d", event_id="a82b4d5f-74f6-4817-9591-066488a63859",
                 resources=[WF])
    assert list(rec) == ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                         "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
                         "eventID", "readOnly", "resources", "eventType", "managementEvent", "recipientAccountId",
                         "eventCategory"]
    assert rec["requestParameters"] == {
        "name": "my-mwaa-serverless-workflow", "clientToken": "c52de4a9-4f0f-4c87-af44-0fc9417e0765",
        "definitionS3Location": {"bucket": "amzn-s3-demo-bucket", "objectKey": "my-mwaa-serverless-workflow.yml"},
        "roleArn": "arn:aws:iam::111122223333:role/mwaa-serverless-workflow-role",
        "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KEY", "kmsKeyId": KMS_KEY},
        "loggingConfiguration": {"logGroupName": "my-mwaa-serverless-workflow-log-group"},
        "triggerMode": "manual_only"}
    assert rec["responseElements"] == {"workflowArn": WF, "createdAt": "2025-11-03T23:31:54.406Z",
                                       "revisionId": "41f42323-f8cb-463b-a7d7-3d1a9d16cdea",
                                       "workflowVersion": "7a1bf53101df1c62969f81221c58c5f7"}
    assert {k: rec[k] for k in ("eventVersion", "eventTime", "eventSource", "eventName", "awsRegion",
                                "sourceIPAddress", "userAgent", "requestID", "eventID", "readOnly", "eventType",
                                "managementEvent", "recipientAccountId", "eventCategory")} == {
        "eventVersion": "1.11", "eventTime": "2025-11-03T23:31:54Z", "eventSource": "airflow-serverless.amazonaws.com",
        "eventName": "CreateWorkflow", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
        "userAgent": "aws-cli/2.28.17", "requestID": "14f37e54-e6f3-49f7-97fb-bd32b578c68d",
        "eventID": "a82b4d5f-74f6-4817-9591-066488a63859", "readOnly": False, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management"}
    assert rec["resources"] == [{"accountId": ACCOUNT, "type": "AWS::MWAAServerless::Workflow", "ARN": WF}]
    identity = rec["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"] == ROLE and identity["accountId"] == ACCOUNT
    assert identity["accessKeyId"] == "ASIAIOSFODNN7EXAMPLE"
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer == {"type": "Role", "principalId": issuer["principalId"], "arn": ROLE, "accountId": ACCOUNT,
                      "userName": "mwaa-serverless-role"}
    assert identity["principalId"] == f"{issuer['principalId']}:ASIAIOSFODNN7EXAMPLE"


def test_user_identities() -> None:
    user = user_identity(USER, "AKIAIOSFODNN7EXAMPLE")
    assert user == {"type": "IAMUser", "principalId": user["principalId"], "arn": USER, "accountId": ACCOUNT,
                    "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "alice"}
    pid = user["principalId"]
    assert pid.startswith("AIDA") and len(pid) == 21 and pid.isalnum() and pid.isupper()
    assert user_identity(USER, None)["principalId"] == pid  # stable per ARN
    assert user_identity("arn:aws:iam::111122223333:user/bob", None)["principalId"] != pid
    assert "accessKeyId" not in user_identity(USER, None)
    assert user_identity(ROLE, None)["principalId"].startswith("AROA")
    assert user_identity(None, None) == {"type": "Unknown"}
    assert user_identity(None, "AKIAUNKNOWN000000000") == {"type": "Unknown", "accessKeyId": "AKIAUNKNOWN000000000"}
    assert user_identity("arn:aws:iam::111122223333:root", None) == {"type": "Unknown",
                                                                     "arn": "arn:aws:iam::111122223333:root"}
    assert user_identity("arn:aws:iam::111122223333:user/eng/ops/carol", None)["userName"] == "carol"


def test_a_failed_call_records_the_error() -> None:
    message = f"User: {USER} is not authorized to perform: airflow-serverless:DeleteWorkflow on resource: {WF}"
    rec = record(operation="DeleteWorkflow", error_code="AccessDenied", error_message=message,
                 request_parameters={"workflowArn": WF})
    keys = list(rec)
    assert keys.index("userAgent") + 1 == keys.index("errorCode") == keys.index("errorMessage") - 1
    assert (rec["errorCode"], rec["errorMessage"], rec["responseElements"]) == ("AccessDenied", message, None)
    unauthenticated = record(principal_arn=None, access_key_id=None, error_code="MissingAuthenticationTokenException",
                             error_message=None)
    assert unauthenticated["userIdentity"] == {"type": "Unknown"}
    assert unauthenticated["errorCode"] == "MissingAuthenticationTokenException"
    assert "errorMessage" not in unauthenticated


def test_success_has_no_error_fields_and_no_resources_unless_given() -> None:
    rec = record()
    assert "errorCode" not in rec and "errorMessage" not in rec and "resources" not in rec
    assert rec["requestParameters"] is None and rec["responseElements"] is None


@pytest.mark.parametrize(("operation", "read_only"), [("GetWorkflow", True), ("ListWorkflowRuns", True),
                                                      ("ListTagsForResource", True), ("CreateWorkflow", False),
                                                      ("StartWorkflowRun", False), ("CreateAirflowUiUrl", False),
                                                      ("UntagResource", False)])
def test_read_only(operation: str, read_only: bool) -> None:
    assert record(operation=operation)["readOnly"] is read_only


def test_event_time_is_utc_and_needs_a_zone() -> None:
    east = timezone(timedelta(hours=9))
    assert record(now=datetime(2025, 11, 4, 8, 31, 54, tzinfo=east))["eventTime"] == "2025-11-03T23:31:54Z"
    with pytest.raises(ValueError):
        record(now=datetime(2025, 11, 3, 23, 31, 54))


# ---------------------------------------------------------------- sensitive values

def test_sensitive_paths_from_the_model() -> None:
    assert sensitive_paths(SHAPES, "CreateWorkflowRequest") == {("Environment", "Variables", "*")}
    assert sensitive_paths(SHAPES, "StartWorkflowRunRequest") == {("OverrideParameters",)}
    assert sensitive_paths(SHAPES, "GetWorkflowRunResponse") == {("OverrideParameters",)}
    assert sensitive_paths(SHAPES, "GetWorkflowResponse") == {("Environment", "Variables", "*")}
    assert sensitive_paths(SHAPES, "CreateAirflowUiUrlResponse") == {("AuthorizedUrl",), ("SessionId",)}
    assert sensitive_paths(SHAPES, "ListWorkflowsRequest") == frozenset()


def test_redact_by_paths() -> None:
    request = {"Name": "etl", "Environment": {"Variables": {"TOKEN": "s3cr3t", "MODE": "fast"}},
               "Tags": {"team": "data"}}
    redacted = redact(request, sensitive_paths(SHAPES, "CreateWorkflowRequest"))
    assert redacted == {"Name": "etl", "Environment": {"Variables": {"TOKEN": HIDDEN, "MODE": HIDDEN}},
                        "Tags": {"team": "data"}}
    assert request["Environment"]["Variables"]["TOKEN"] == "s3cr3t"  # the input is not changed
    assert redact({"OverrideParameters": {"a": 1}, "WorkflowArn": WF}, {("OverrideParameters",)}) == \
        {"OverrideParameters": HIDDEN, "WorkflowArn": WF}
    assert redact({"Items": [{"Secret": "x", "Keep": 1}]}, {("Items", "*", "Secret")}) == \
        {"Items": [{"Secret": HIDDEN, "Keep": 1}]}


def test_trail_value_hides_sensitive_values_and_keeps_map_keys() -> None:
    request = {"Name": "etl", "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}}, "Tags": {"Team": "data"},
               "NotInTheModel": "dropped"}
    assert trail_value(SHAPES, "CreateWorkflowRequest", request) == {
        "name": "etl", "environment": {"variables": {"DB_PASSWORD": HIDDEN}}, "tags": {"Team": "data"}}
    run = trail_value(SHAPES, "StartWorkflowRunRequest", {"WorkflowArn": WF, "OverrideParameters": {"k": "v"}})
    assert run == {"workflowArn": WF, "overrideParameters": HIDDEN}
    url = trail_value(SHAPES, "CreateAirflowUiUrlResponse", {"AuthorizedUrl": "https://x/?token=1",
                                                             "SessionId": "a" * 32})
    assert url == {"authorizedUrl": HIDDEN, "sessionId": HIDDEN}
    assert "hunter2" not in json.dumps(trail_value(SHAPES, "CreateWorkflowRequest", request))


def test_trail_value_timestamps() -> None:
    for value in (NOW, NOW.timestamp(), "2025-11-03T23:31:54.406Z"):
        assert trail_value(SHAPES, "CreateWorkflowResponse", {"CreatedAt": value}) == \
            {"createdAt": "2025-11-03T23:31:54.406Z"}


# ---------------------------------------------------------------- the writer

class Recording(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))
        super().flush()


def test_one_compact_line_per_record_flushed() -> None:
    stream = Recording()
    log = AuditLog(stream)
    first = record(request_parameters={"name": "multi\nline"})
    log.write(first)
    log.write(record(operation="ListWorkflows"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == first and json.loads(lines[1])["eventName"] == "ListWorkflows"
    assert ": " not in lines[0] and ", " not in lines[0]  # compact separators
    assert stream.flushed_at == [len(lines[0]) + 1, len(stream.getvalue())]


def test_defaults_to_stdout_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    AuditLog().write({"eventName": "GetWorkflow", "when": NOW})
    assert json.loads(capsys.readouterr().out) == {"eventName": "GetWorkflow", "when": "2025-11-03T23:31:54.406Z"}


def test_concurrent_writers_do_not_interleave() -> None:
    class Slow(io.StringIO):
        def write(self, s: str) -> int:  # one character at a time: interleaving would show
            for c in s:
                super().write(c)
            return len(s)

    stream = Slow()
    log = AuditLog(stream)
    threads = [threading.Thread(target=lambda i=i: [log.write({"n": i, "pad": "x" * 200}) for _ in range(20)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 160 and all(json.loads(line)["pad"] == "x" * 200 for line in lines)
