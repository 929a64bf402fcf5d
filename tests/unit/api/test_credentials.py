"""The credentials file: what a valid one gives, and that every mistake stops loading with a message
naming the file, the access key, the field and the rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from updraft.api.credentials import CredentialsError, Principal, load_credentials, parse_credentials

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ALICE = "arn:aws:iam::123456789012:user/alice"
READ_ONLY = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": ["airflow-serverless:Get*", "airflow-serverless:List*"],
                            "Resource": "*"}]}
OPS = ["GetWorkflow", "ListWorkflows", "CreateWorkflow"]


def parse(data: Any, **kw: Any) -> dict[str, Principal]:
    return parse_credentials(json.dumps(data), "credentials.json", **kw)


def entry(**fields: Any) -> dict[str, Any]:
    """A valid entry but for `fields` (full access unless policies are given)."""
    access = {} if "policies" in fields or "fullAccess" in fields else {"fullAccess": True}
    return {"secretAccessKey": SECRET, "principal": ALICE, **access, **fields}


def error(data: Any, **kw: Any) -> str:
    with pytest.raises(CredentialsError) as e:
        parse(data, **kw) if not isinstance(data, str) else parse_credentials(data, "credentials.json", **kw)
    return str(e.value)


def test_a_valid_file() -> None:
    creds = parse({AKID: entry(policies=[READ_ONLY], tags={"team": "data"}),
                   "AKIAI44QH8DHBEXAMPLE": {"secretAccessKey": "other", "principal":
                                            "arn:aws:iam::210987654321:role/service-role/deployer",
                                            "fullAccess": True},
                   "AKIAEMPTYPOLICIES000": entry(policies=[])}, actions=OPS)
    alice = creds[AKID]
    assert (alice.access_key_id, alice.secret_access_key, alice.arn, alice.account_id) == \
        (AKID, SECRET, ALICE, "123456789012")
    assert alice.policies == (READ_ONLY,)
    assert dict(alice.tags) == {"team": "data"}
    deployer = creds["AKIAI44QH8DHBEXAMPLE"]
    assert deployer.policies is None  # "fullAccess": true
    assert dict(deployer.tags) == {}
    assert deployer.account_id == "210987654321"
    assert creds["AKIAEMPTYPOLICIES000"].policies == ()  # no access at all


def test_the_secret_never_shows_in_repr() -> None:
    principal = parse({AKID: entry()})[AKID]
    assert SECRET not in repr(principal)
    assert AKID in repr(principal)


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({AKID: entry()}))
    assert load_credentials(str(path))[AKID].arn == ALICE
    path.write_text(json.dumps({AKID: entry(principal="alice")}))
    with pytest.raises(CredentialsError) as e:
        load_credentials(str(path))
    assert str(e.value).startswith(f'{path}: "{AKID}": "principal" must be an IAM ARN')


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as e:
        load_credentials(str(tmp_path / "missing.json"))
    assert str(e.value) == f"{tmp_path / 'missing.json'}: cannot read the credentials file: No such file or directory"
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(CredentialsError, match="not UTF-8 text"):
        load_credentials(str(binary))


# (id, file content, exact message or fragment)
ERRORS = [
    ("not-json", "{", "credentials.json: not valid JSON: Expecting property name enclosed in double quotes: "
                      "line 1 column 2 (char 1)"),
    ("not-an-object", [AKID], "credentials.json: must be a JSON object of access key id -> "),
    ("empty", {}, "credentials.json: has no access keys, so no request could ever be signed"),
    ("duplicate-key", f'{{"{AKID}": {json.dumps(entry())}, "{AKID}": {json.dumps(entry())}}}',
     f'credentials.json: "{AKID}" appears twice in the same object'),
    ("key-id-short", {"AKIA123": entry()},
     'credentials.json: "AKIA123": an access key id must be 16 to 128 letters, digits or underscores'),
    ("key-id-slash", {"AKIAIOSFODNN7/XAMPLE": entry()}, "an access key id must be 16 to 128 letters"),
    ("entry-not-object", {AKID: "secret"},
     f'credentials.json: "{AKID}": must be an object with "secretAccessKey" and "principal"'),
    ("unknown-field", {AKID: entry(policy=[])},
     f'credentials.json: "{AKID}": unknown field "policy" (fields: secretAccessKey, principal, tags, policies, '
     'fullAccess); nothing is granted for a field the server does not know'),
    # fail-closed (issue 21): no entry gets access without saying which
    ("no-policies", {AKID: {"secretAccessKey": SECRET, "principal": ALICE}},
     f'credentials.json: "{AKID}": has no "policies": give it a list of IAM policy documents, or "fullAccess": true'),
    ("misspelt-policies", {AKID: {"secretAccessKey": SECRET, "principal": ALICE, "Policies": []}},
     f'credentials.json: "{AKID}": unknown field "Policies"'),
    ("full-access-false", {AKID: entry(fullAccess=False)}, '"fullAccess" must be true when given'),
    ("full-access-string", {AKID: entry(fullAccess="true")}, '"fullAccess" must be true when given'),
    ("full-access-and-policies", {AKID: entry(fullAccess=True, policies=[])},
     'has both "fullAccess" and "policies"; give one of them'),
    ("no-secret", {AKID: {"principal": ALICE}},
     f'credentials.json: "{AKID}": "secretAccessKey" must be a non-empty string'),
    ("empty-secret", {AKID: entry(secretAccessKey="")}, '"secretAccessKey" must be a non-empty string'),
    ("secret-with-space", {AKID: entry(secretAccessKey=SECRET + " ")},
     '"secretAccessKey" must not start or end with white space'),
    ("no-principal", {AKID: {"secretAccessKey": SECRET}},
     f'credentials.json: "{AKID}": "principal" must be an IAM ARN (arn:aws:iam::<12 digits>:user/... or role/...), '
     "got None"),
    ("principal-not-iam", {AKID: entry(principal="arn:aws:sts::123456789012:assumed-role/r/s")},
     f'credentials.json: "{AKID}": "principal" must be an IAM ARN (arn:aws:iam::<12 digits>:user/... or role/...), '
     "got 'arn:aws:sts::123456789012:assumed-role/r/s'"),
    ("principal-short-account", {AKID: entry(principal="arn:aws:iam::1234:user/alice")}, '"principal" must be an IAM'),
    ("principal-group", {AKID: entry(principal="arn:aws:iam::123456789012:group/admins")},
     '"principal" must be an IAM'),
    ("tags-not-object", {AKID: entry(tags=["team"])},
     f'credentials.json: "{AKID}": "tags" must be an object of tag key -> tag value'),
    ("tag-value-not-string", {AKID: entry(tags={"team": 1})}, "\"tags\": the value of 'team' must be a string"),
    ("tag-key-empty", {AKID: entry(tags={"": "x"})}, "\"tags\": tag key '' must be 1 to 128 characters"),
    ("policies-not-list", {AKID: entry(policies=READ_ONLY)}, '"policies" must be a list of IAM policy documents'),
    ("policy-effect", {AKID: entry(policies=[READ_ONLY, {"Version": "2012-10-17", "Statement": [
        {"Effect": "allow", "Action": "*", "Resource": "*"}]}])},
     f'credentials.json: "{AKID}": "policies"[1]: Statement[0]: "Effect" must be "Allow" or "Deny", got \'allow\''),
    ("policy-operator", {AKID: entry(policies=[{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*",
         "Condition": {"StringEqualsIgnorecase": {"aws:ResourceTag/team": "x"}}}]}])},
     f'credentials.json: "{AKID}": "policies"[0]: Statement[0]: unsupported condition operator '
     '"StringEqualsIgnorecase" (did you mean "StringEqualsIgnoreCase"?)'),
    ("policy-action-typo", {AKID: entry(policies=[{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "airflow-serverless:ListWorkflow", "Resource": "*"}]}])},
     f'credentials.json: "{AKID}": "policies"[0]: Statement[0]: "Action": \'airflow-serverless:ListWorkflow\' '
     'matches no airflow-serverless action (did you mean "airflow-serverless:ListWorkflows"?)'),
    ("policy-no-resource", {AKID: entry(policies=[{"Statement": [{"Effect": "Allow", "Action": "*"}]}])},
     '"policies"[0]: Statement[0]: a statement needs exactly one of "Resource" and "NotResource"'),
]


@pytest.mark.parametrize(("data", "expected"), [pytest.param(*t[1:], id=t[0]) for t in ERRORS])
def test_errors_name_the_key_the_field_and_the_rule(data: Any, expected: str) -> None:
    message = error(data, actions=OPS)
    assert message == expected or (expected in message and message.startswith("credentials.json: "))


def test_unknown_action_names_pass_without_the_operation_list() -> None:
    policies = [{"Statement": [{"Effect": "Allow", "Action": "airflow-serverless:ListWorkflow", "Resource": "*"}]}]
    assert parse({AKID: entry(policies=policies)})[AKID].policies == tuple(policies)
