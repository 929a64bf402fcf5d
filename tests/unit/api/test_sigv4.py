"""SigV4 verification against requests signed by botocore (the signer every AWS SDK path in Python
uses) and by a real boto3 client, then tampered part by part; AWS's published test vectors; and
the exact error codes, statuses and messages AWS JSON services answer with."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

from updraft.api import sigv4
from updraft.api.credentials import Principal
from updraft.api.sigv4 import AuthError, verify

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ALICE = Principal(AKID, SECRET, "arn:aws:iam::123456789012:user/alice", None)
CREDS = {AKID: ALICE}
REGION = "us-east-1"
T0 = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
URL = "http://updraft.test:8080/"
TARGET = "AmazonMWAAServerless.ListWorkflows"


def sign(*, body: bytes = b"{}", url: str = URL, when: datetime = T0, region: str = REGION,
         service: str = "airflow-serverless", key: str = AKID, secret: str = SECRET, token: str | None = None,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A request signed by botocore at `when`, as the server receives it (Host added by the HTTP client)."""
    base = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET}
    request = AWSRequest(method="POST", url=url, data=body, headers={**base, **(headers or {})})
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    return {"method": "POST", "path": parts.path, "query": parts.query,
            "headers": {**dict(prepared.headers), "Host": parts.netloc}, "body": prepared.body}


def check(request: dict[str, Any], now: datetime = T0, region: str = REGION,
          credentials: dict[str, Principal] | None = None) -> Principal:
    return verify(**request, credentials=CREDS if credentials is None else credentials, region=region, now=now)


def refused(request: dict[str, Any], **kw: Any) -> AuthError:
    with pytest.raises(AuthError) as e:
        check(request, **kw)
    return e.value


def with_header(request: dict[str, Any], name: str, value: str | None) -> dict[str, Any]:
    headers = {k: v for k, v in request["headers"].items() if k.lower() != name.lower()}
    if value is not None:
        headers[name] = value
    return {**request, "headers": headers}


# ---------------------------------------------------------------- accepted

def test_a_botocore_signed_request_verifies() -> None:
    assert check(sign()) is ALICE


def test_published_aws_test_vectors() -> None:
    """The signing key example of the AWS General Reference and the get-vanilla case of AWS's SigV4 test suite."""
    assert sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam").hex() == \
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    vanilla_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    request = {"method": "GET", "path": "/", "query": "", "body": b"",
               "headers": {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z",
                           "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                            "aws4_request, SignedHeaders=host;x-amz-date, Signature="
                                            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}}
    principal = Principal("AKIDEXAMPLE", vanilla_secret, "arn:aws:iam::123456789012:user/x", None)
    assert verify(**request, credentials={"AKIDEXAMPLE": principal}, region="us-east-1", service="service",
                  now=datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)) is principal


def test_header_names_are_case_insensitive() -> None:
    request = sign()
    for transform in (str.lower, str.upper, str.title):
        assert check({**request, "headers": {transform(k): v for k, v in request["headers"].items()}}) is ALICE


def test_runs_of_spaces_in_header_values_collapse() -> None:
    request = sign(headers={"X-Custom": "  a   b    c  "})
    assert check(request) is ALICE
    assert check(with_header(request, "X-Custom", "a b c")) is ALICE  # the same canonical value
    assert refused(with_header(request, "X-Custom", "a bc")).code == "InvalidSignatureException"


def test_repeated_headers_from_a_multidict_join_with_commas() -> None:
    class MultiDict(dict):  # items() yields every value, as aiohttp's CIMultiDictProxy does
        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            super().__init__(pairs)
            self._pairs = pairs

        def items(self):  # type: ignore[override]
            return iter(self._pairs)

    request = sign(headers={"X-Custom": "a,b"})
    pairs = [(k, v) for k, v in request["headers"].items() if k != "X-Custom"] + [("X-Custom", "a"), ("x-custom", "b")]
    assert check({**request, "headers": MultiDict(pairs)}) is ALICE


@pytest.mark.parametrize("url", ["http://updraft.test:8080/a/./b//c/../d", "http://updraft.test:8080/my%20path/x%2Fy",
                                 "http://updraft.test:8080/trailing/", "http://updraft.test:8080/~user/-_.",
                                 "http://updraft.test:8080/?b=2&a=1&a=0&c=x%2Fy&empty=",
                                 "http://updraft.test/?flag"])
def test_paths_and_queries_canonicalize_as_botocore_signs_them(url: str) -> None:
    assert check(sign(url=url)) is ALICE


def test_query_is_covered_by_the_signature() -> None:
    request = sign(url=URL + "?a=1")
    assert refused({**request, "query": "a=2"}).code == "InvalidSignatureException"


def test_date_header_instead_of_x_amz_date() -> None:
    request = sign(headers={"Date": "placeholder"})  # botocore signs with Date when the request has one
    assert "X-Amz-Date" not in request["headers"]
    assert check(request) is ALICE


def test_matching_content_sha256_header_is_accepted() -> None:
    body = b'{"MaxResults": 5}'
    assert check(sign(body=body, headers={"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()})) is ALICE


def test_the_five_minute_window_is_inclusive() -> None:
    request = sign()
    assert check(request, now=T0 + timedelta(minutes=5)) is ALICE
    assert check(request, now=T0 - timedelta(minutes=5)) is ALICE


# ---------------------------------------------------------------- tampering

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.")


def _tamper_signature(request: dict[str, Any]) -> dict[str, Any]:
    auth = request["headers"]["Authorization"]
    last = auth[-1]
    return with_header(request, "Authorization", auth[:-1] + ("0" if last != "0" else "1"))


TAMPERING = [
    ("body", lambda r: {**r, "body": b'{"MaxResults": 1}'}),
    ("target", lambda r: with_header(r, "X-Amz-Target", "AmazonMWAAServerless.DeleteWorkflow")),
    ("signed-header", lambda r: with_header(r, "Content-Type", "application/json")),
    ("host", lambda r: with_header(r, "Host", "evil.test:8080")),
    ("method", lambda r: {**r, "method": "PUT"}),
    ("path", lambda r: {**r, "path": "/other"}),
    ("date-same-day", lambda r: with_header(r, "X-Amz-Date", "20261122T120100Z")),
    ("signature", _tamper_signature),
]


@pytest.mark.parametrize("tamper", [t[1] for t in TAMPERING], ids=[t[0] for t in TAMPERING])
def test_tampering_breaks_the_signature(tamper: Any) -> None:
    request = sign()
    assert check(request) is ALICE
    e = refused(tamper(request))
    assert (e.code, e.status, e.message) == ("InvalidSignatureException", 403, SIGNATURE_MISMATCH)


def test_wrong_secret() -> None:
    e = refused(sign(secret="not-the-secret"))
    assert (e.code, e.status, e.message) == ("InvalidSignatureException", 403, SIGNATURE_MISMATCH)


def test_unsigned_headers_may_change() -> None:
    request = sign()
    assert check(with_header(request, "User-Agent", "something else")) is ALICE


def test_a_target_header_added_after_signing_is_refused() -> None:
    request = sign()
    unsigned_target = with_header(request, "X-Amz-Target", None)
    signed = unsigned_target["headers"]["Authorization"].replace(";x-amz-target", "")
    request = with_header(with_header(unsigned_target, "Authorization", signed), "X-Amz-Target", TARGET)
    e = refused(request)
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."


def test_host_must_be_signed() -> None:
    request = sign()
    auth = request["headers"]["Authorization"].replace("host;", "")
    e = refused(with_header(request, "Authorization", auth))
    assert (e.code, e.message) == ("IncompleteSignatureException",
                                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")


def test_content_sha256_must_match_the_body() -> None:
    for claimed in ("UNSIGNED-PAYLOAD", hashlib.sha256(b"other").hexdigest()):
        e = refused(sign(headers={"X-Amz-Content-Sha256": claimed}))
        assert (e.code, e.status) == ("InvalidSignatureException", 403)
        assert e.message == "The provided 'x-amz-content-sha256' header does not match what was computed."


# ---------------------------------------------------------------- scope, key, time

def test_wrong_region_names_both() -> None:
    e = refused(sign(region="eu-west-1"))
    assert (e.code, e.status) == ("InvalidSignatureException", 403)
    assert e.message == ("Credential should be scoped to a valid region, not 'eu-west-1'. "
                         "This endpoint's region is 'us-east-1'.")


def test_wrong_service_names_the_expected_one() -> None:
    e = refused(sign(service="airflow"))
    assert (e.code, e.status, e.message) == ("InvalidSignatureException", 403,
                                             "Credential should be scoped to correct service: 'airflow-serverless'. ")


def test_wrong_terminator() -> None:
    request = sign()
    auth = request["headers"]["Authorization"].replace("/aws4_request", "/aws5_request")
    e = refused(with_header(request, "Authorization", auth))
    assert e.message == "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "


def test_scope_date_must_be_the_request_date() -> None:
    request = with_header(sign(), "X-Amz-Date", "20261123T000100Z")
    e = refused(request, now=datetime(2026, 11, 23, 0, 1, tzinfo=timezone.utc))
    assert (e.code, e.status) == ("InvalidSignatureException", 403)
    assert e.message == ("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                         "'20261122' != '20261123', from '20261123T000100Z'.")


def test_unknown_access_key() -> None:
    e = refused(sign(key="AKIAUNKNOWNKEY000000"))
    assert (e.code, e.status, e.message) == ("UnrecognizedClientException", 403,
                                             "The security token included in the request is invalid.")


def test_session_credentials_are_refused() -> None:
    e = refused(sign(token="FwoGZXIvYXdzEXAMPLE"))
    assert (e.code, e.status, e.message) == ("UnrecognizedClientException", 403,
                                             "The security token included in the request is invalid.")


def test_expired_signature() -> None:
    e = refused(sign(), now=T0 + timedelta(minutes=5, seconds=1))
    assert (e.code, e.status) == ("InvalidSignatureException", 403)
    assert e.message == ("Signature expired: 20261122T120000Z is now earlier than 20261122T120001Z "
                         "(20261122T120501Z - 5 min.)")


def test_signature_from_the_future() -> None:
    e = refused(sign(), now=T0 - timedelta(minutes=5, seconds=1))
    assert (e.code, e.status) == ("InvalidSignatureException", 403)
    assert e.message == ("Signature not yet current: 20261122T120000Z is still later than 20261122T115959Z "
                         "(20261122T115459Z + 5 min.)")


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        check(sign(), now=T0.replace(tzinfo=None))


# ---------------------------------------------------------------- missing and malformed

def test_no_authorization_header() -> None:
    e = refused(with_header(sign(), "Authorization", None))
    assert (e.code, e.status, e.message) == ("MissingAuthenticationTokenException", 403, "Missing Authentication Token")


def test_not_a_sigv4_header() -> None:
    e = refused(with_header(sign(), "Authorization", "Bearer abc.def"))
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message == ("Authorization header requires 'Credential' parameter. Authorization header requires "
                         "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                         "Authorization=Bearer abc.def")


def test_missing_parameters_are_each_named() -> None:
    header = f"AWS4-HMAC-SHA256 Credential={AKID}/20261122/us-east-1/airflow-serverless/aws4_request"
    e = refused(with_header(sign(), "Authorization", header))
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message == ("Authorization header requires 'Signature' parameter. Authorization header requires "
                         f"'SignedHeaders' parameter. Authorization={header}")


def test_missing_date() -> None:
    request = with_header(sign(), "X-Amz-Date", None)
    e = refused(request)
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message.startswith("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                                "header. Authorization=AWS4-HMAC-SHA256 Credential=")


def test_malformed_date() -> None:
    e = refused(with_header(sign(), "X-Amz-Date", "2026-11-22T12:00:00Z"))
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message.startswith("Date must be in ISO-8601 'basic format'. Got '2026-11-22T12:00:00Z'.")


def test_pair_without_equal_sign() -> None:
    header = f"AWS4-HMAC-SHA256 Credential={AKID} /20261122/us-east-1/airflow-serverless/aws4_request, " \
             "SignedHeaders=host;x-amz-date, Signature=abc"
    e = refused(with_header(sign(), "Authorization", header))
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message == ("'/20261122/us-east-1/airflow-serverless/aws4_request' not a valid key=value pair "
                         f"(missing equal-sign) in Authorization header: '{header}'.")


def test_credential_with_the_wrong_number_of_parts() -> None:
    header = f"AWS4-HMAC-SHA256 Credential={AKID}/20261122/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, " \
             "Signature=abc"
    e = refused(with_header(sign(), "Authorization", header))
    assert (e.code, e.status) == ("IncompleteSignatureException", 400)
    assert e.message == ("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,"
                         f" got '{AKID}/20261122/us-east-1/aws4_request'")


# ---------------------------------------------------------------- the real boto3 client

class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _client_call(call: str, **params: Any) -> dict[str, Any]:
    """Call the boto3 client with a fixed clock; capture the request it would send, answer it locally."""
    client = boto3.client("mwaa-serverless", endpoint_url="http://updraft.test:8080", region_name=REGION,
                          aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    captured: dict[str, Any] = {}

    def before_send(request: Any, **_: Any) -> AWSResponse:
        captured["request"] = request
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(b"{}"))

    client.meta.events.register("before-send", before_send)
    with mock.patch("botocore.auth.get_current_datetime", return_value=T0.replace(tzinfo=None)):
        getattr(client, call)(**params)
    sent = captured["request"]
    parts = urlsplit(sent.url)
    body = sent.body if isinstance(sent.body, bytes) else (sent.body or b"").encode()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in sent.headers.items()}  # as a server reads them
    return {"method": sent.method, "path": parts.path, "query": parts.query,
            "headers": {**headers, "Host": parts.netloc}, "body": body}


def test_boto3_client_requests_verify() -> None:
    listing = _client_call("list_workflows", MaxResults=5)
    assert listing["headers"]["X-Amz-Target"] == "AmazonMWAAServerless.ListWorkflows"
    assert check(listing) is ALICE
    create = _client_call("create_workflow", Name="etl", RoleArn="arn:aws:iam::123456789012:role/run",
                          DefinitionS3Location={"Bucket": "b", "ObjectKey": "etl.yaml"},
                          Environment={"Variables": {"TOKEN": "s3cr3t value"}}, Tags={"team": "data"})
    assert json.loads(create["body"])["Name"] == "etl"
    assert check(create) is ALICE


def test_boto3_client_request_tampered_is_refused() -> None:
    create = _client_call("create_workflow", Name="etl", RoleArn="arn:aws:iam::123456789012:role/run",
                          DefinitionS3Location={"Bucket": "b", "ObjectKey": "etl.yaml"})
    document = json.loads(create["body"])
    document["RoleArn"] = "arn:aws:iam::123456789012:role/admin"
    assert refused({**create, "body": json.dumps(document).encode()}).code == "InvalidSignatureException"
    assert refused(with_header(create, "X-Amz-Target", "AmazonMWAAServerless.DeleteWorkflow")).code == \
        "InvalidSignatureException"
    assert refused(create, region="eu-west-1").code == "InvalidSignatureException"
    assert refused(create, credentials={}).code == "UnrecognizedClientException"
