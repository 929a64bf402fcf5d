"""Failed calls become one line and a documented exit code. The exceptions are botocore's own:
built directly, or raised by a real client through botocore's Stubber (no network)."""

from __future__ import annotations

import re

import botocore.exceptions as bx
import pytest

from updraft.remote import exits
from updraft.remote.exits import CliError, describe

URL = "http://localhost:8443"


def _stubbed_error(code: str, message: str, status: int, **members: object) -> Exception:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=URL,
                          aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stub:
        stub.add_client_error("get_workflow", code, message, status,
                              modeled_fields={"Message": message, **members} if members else None)
        try:
            client.get_workflow(WorkflowArn="arn:aws:airflow-serverless:us-east-1:123456789012:workflow/x-a1b2c3d4e5")
        except Exception as e:
            return e
    raise AssertionError("the stub did not raise")


def test_not_found_names_the_object() -> None:
    err = describe(_stubbed_error("ResourceNotFoundException", "Workflow x was not found.", 404,
                                  ResourceId="x", ResourceType="Workflow"), URL, "workflow 'x'")
    assert (err.code, err.message) == (exits.NOT_FOUND, "unknown workflow 'x': Workflow x was not found.")


def test_api_refusals_show_operation_code_and_message() -> None:
    err = describe(_stubbed_error("AccessDeniedException", "User u is not authorized\nto perform X", 403), URL)
    assert err.code == exits.API_ERROR
    assert err.message == "GetWorkflow failed: AccessDeniedException: User u is not authorized to perform X"
    err = describe(_stubbed_error("InvalidSignatureException", "bad signature", 403), URL)
    assert err.code == exits.API_ERROR and "--region" in err.message


def test_something_other_than_the_api_answering() -> None:
    err = describe(bx.ClientError({"Error": {"Code": "404", "Message": "Not Found"},
                                   "ResponseMetadata": {"HTTPStatusCode": 404}}, "ListWorkflows"), URL)
    assert err.code == exits.UNREACHABLE and "HTTP 404 from http://localhost:8443: Not Found (is this" in err.message
    html = bx.ClientError({"Error": {"Code": "501", "Message": "<!DOCTYPE HTML><html>...</html>"},
                           "ResponseMetadata": {"HTTPStatusCode": 501}}, "ListWorkflows")
    assert describe(html, URL).message == "HTTP 501 from http://localhost:8443 (is this an Updraft API endpoint?)"
    from botocore.parsers import ResponseParserError

    err = describe(ResponseParserError("Unable to parse response"), URL)
    assert err.code == exits.UNREACHABLE and "not an MWAA Serverless API response" in err.message


@pytest.mark.parametrize("exc, code, words", [
    (bx.NoCredentialsError(), exits.USAGE, ["no AWS credentials", "--no-sign-request"]),
    (bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), exits.USAGE, ["no AWS credentials"]),
    (bx.NoRegionError(), exits.USAGE, ["--region", "AWS_REGION"]),
    (bx.ProfileNotFound(profile="ci"), exits.USAGE, ["ci"]),
    (bx.EndpointConnectionError(endpoint_url=URL + "/"), exits.UNREACHABLE, ["cannot reach the API at " + URL]),
    (bx.ReadTimeoutError(endpoint_url=URL), exits.UNREACHABLE, ["cannot reach"]),
    (bx.ParamValidationError(report="Invalid length for parameter RunId"), exits.USAGE, ["RunId"]),
    (RuntimeError("boom"), exits.UNREACHABLE, ["unexpected error: RuntimeError: boom"]),
])
def test_client_side_failures(exc: Exception, code: int, words: list[str]) -> None:
    err = describe(exc, URL)
    assert err.code == code and "\n" not in err.message
    for w in words:
        assert w in err.message


def test_messages_are_one_bounded_line() -> None:
    err = CliError("a\nb  c\t" + "x" * 1000, exits.API_ERROR)
    assert err.message.startswith("a b c x") and len(err.message) == 400 and err.message.endswith("…")


def test_the_help_documents_every_exit_code() -> None:
    documented = {int(n) for n in re.findall(r"^  (\d+) ", exits.EXIT_CODES_HELP, re.M)}
    codes = {v for k, v in vars(exits).items() if k.isupper() and isinstance(v, int)}
    assert documented == codes


def test_which_failures_are_worth_waiting_out() -> None:
    assert describe(bx.EndpointConnectionError(endpoint_url=URL), URL).transient
    assert describe(_stubbed_error("ThrottlingException", "Rate exceeded", 429), URL).transient
    assert describe(_stubbed_error("InternalServerException", "oops", 500), URL).transient
    assert not describe(_stubbed_error("AccessDeniedException", "no", 403), URL).transient
    assert not describe(_stubbed_error("ResourceNotFoundException", "gone", 404), URL, "run 'r'").transient
    assert not describe(bx.NoCredentialsError(), URL).transient
