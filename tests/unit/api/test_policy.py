"""IAM policy evaluation: tables of policy x request -> allowed / implicit deny / explicit deny,
including IAM's rules for absent keys, set qualifiers and policy variables, the ABAC policies the
guide's "ABAC with Amazon MWAA Serverless" section describes, AWS's denial messages, and load-time
validation."""

from __future__ import annotations

from typing import Any

import pytest

from updraft.api.policy import (Verdict, PolicyError, check_policy, denied_message, evaluate, principal_type,
                                request_context)

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
WF = f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/etl-AbCdEfGhIj"
OTHER_WF = f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/secret-AbCdEfGhIj"
ALL_WF = f"arn:aws:airflow-serverless:*:{ACCOUNT}:workflow/*"


def allow(action: Any = "airflow-serverless:*", resource: Any = "*", condition: dict | None = None,
          effect: str = "Allow", version: str = "2012-10-17", **extra: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": effect, **extra}
    if "NotAction" not in extra:
        stmt["Action"] = action
    if "NotResource" not in extra:
        stmt["Resource"] = resource
    if condition is not None:
        stmt["Condition"] = condition
    return {"Version": version, "Statement": [stmt]}


def deny(action: Any = "airflow-serverless:*", resource: Any = "*", condition: dict | None = None,
         **extra: Any) -> dict[str, Any]:
    return allow(action, resource, condition, effect="Deny", **extra)


def when(condition: dict[str, Any], version: str = "2012-10-17") -> list[dict[str, Any]]:
    return [allow(condition=condition, version=version)]


def outcome(policies: Any, action: str = "airflow-serverless:GetWorkflow", resource: str = WF,
            context: dict[str, Any] | None = None) -> str:
    d = evaluate(policies, action=action, resource=resource, context={"aws:PrincipalArn": ALICE, **(context or {})})
    assert not (d.allowed and d.explicit_deny)
    return "explicit" if d.explicit_deny else ("allow" if d.allowed else "implicit")


# (id, policies, action, resource, context, expected)
ACTIONS_AND_RESOURCES = [
    ("no-policies-key-is-full-access", None, "airflow-serverless:DeleteWorkflow", WF, {}, "allow"),
    ("empty-policy-list-allows-nothing", [], "airflow-serverless:GetWorkflow", WF, {}, "implicit"),
    ("star-star", [allow("*", "*")], "airflow-serverless:DeleteWorkflow", WF, {}, "allow"),
    ("service-wildcard", [allow("airflow-serverless:*")], "airflow-serverless:StartWorkflowRun", WF, {}, "allow"),
    ("prefix-wildcard", [allow("airflow-serverless:Get*")], "airflow-serverless:GetWorkflowRun", WF, {}, "allow"),
    ("prefix-wildcard-other-action", [allow("airflow-serverless:Get*")], "airflow-serverless:CreateWorkflow", "*",
     {}, "implicit"),
    ("action-case-insensitive", [allow("AIRFLOW-SERVERLESS:getworkflow")], "airflow-serverless:GetWorkflow", WF, {},
     "allow"),
    ("question-mark", [allow("airflow-serverless:?etWorkflow")], "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("question-mark-is-one-char", [allow("airflow-serverless:?Workflow")], "airflow-serverless:GetWorkflow", WF, {},
     "implicit"),
    ("action-list", [allow(["airflow-serverless:ListWorkflows", "airflow-serverless:GetWorkflow"])],
     "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("other-service-action", [allow("s3:*")], "airflow-serverless:GetWorkflow", WF, {}, "implicit"),
    ("not-action-other", [allow(NotAction="airflow-serverless:DeleteWorkflow")], "airflow-serverless:GetWorkflow", WF,
     {}, "allow"),
    ("not-action-named", [allow(NotAction=["airflow-serverless:Delete*"])], "airflow-serverless:DeleteWorkflow", WF,
     {}, "implicit"),
    ("resource-wildcard", [allow(resource=f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/etl-*")],
     "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("resource-wildcard-other", [allow(resource=f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/etl-*")],
     "airflow-serverless:GetWorkflow", OTHER_WF, {}, "implicit"),
    ("resource-case-sensitive", [allow(resource=f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/ETL-*")],
     "airflow-serverless:GetWorkflow", WF, {}, "implicit"),
    ("resource-star-matches-no-resource-actions", [allow(resource="*")], "airflow-serverless:ListWorkflows", "*", {},
     "allow"),
    ("arn-pattern-does-not-match-star", [allow(resource=ALL_WF)], "airflow-serverless:ListWorkflows", "*", {},
     "implicit"),
    ("wildcard-region", [allow(resource=ALL_WF)], "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("resource-part-wildcard-spans-slashes", [allow(resource=f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:*")],
     "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("star-stays-in-its-arn-part", [allow(resource=f"arn:aws:*:{ACCOUNT}:workflow/*")],
     "airflow-serverless:GetWorkflow", WF, {}, "implicit"),
    ("other-account", [allow(resource="arn:aws:airflow-serverless:*:999999999999:workflow/*")],
     "airflow-serverless:GetWorkflow", WF, {}, "implicit"),
    ("resource-list", [allow(resource=[OTHER_WF, WF])], "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("not-resource-other", [allow(NotResource=OTHER_WF)], "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("not-resource-named", [allow(NotResource=[OTHER_WF])], "airflow-serverless:GetWorkflow", OTHER_WF, {},
     "implicit"),
    ("deny-wins", [allow(), deny("airflow-serverless:DeleteWorkflow")], "airflow-serverless:DeleteWorkflow", WF, {},
     "explicit"),
    ("deny-elsewhere-does-not-block", [allow(), deny("airflow-serverless:DeleteWorkflow")],
     "airflow-serverless:GetWorkflow", WF, {}, "allow"),
    ("deny-in-a-later-document-wins", [allow("*", "*"), deny(resource=WF)], "airflow-serverless:GetWorkflow", WF, {},
     "explicit"),
    ("deny-alone-is-explicit", [deny()], "airflow-serverless:GetWorkflow", WF, {}, "explicit"),
    ("deny-on-other-resource-is-implicit", [deny(resource=OTHER_WF)], "airflow-serverless:GetWorkflow", WF, {},
     "implicit"),
    ("statement-object-not-list", [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",
                                                                           "Resource": "*"}}],
     "airflow-serverless:GetWorkflow", WF, {}, "allow"),
]


@pytest.mark.parametrize(("policies", "action", "resource", "context", "expected"),
                         [pytest.param(*t[1:], id=t[0]) for t in ACTIONS_AND_RESOURCES])
def test_actions_and_resources(policies: Any, action: str, resource: str, context: dict, expected: str) -> None:
    assert outcome(policies, action, resource, context) == expected


TEAM = "aws:ResourceTag/team"
# (id, condition, context, expected)
CONDITIONS = [
    ("equals", {"StringEquals": {TEAM: "data"}}, {TEAM: "data"}, "allow"),
    ("equals-other", {"StringEquals": {TEAM: "data"}}, {TEAM: "ml"}, "implicit"),
    ("equals-absent-is-false", {"StringEquals": {TEAM: "data"}}, {}, "implicit"),
    ("equals-case-sensitive", {"StringEquals": {TEAM: "DATA"}}, {TEAM: "data"}, "implicit"),
    ("equals-values-are-ored", {"StringEquals": {TEAM: ["data", "ml"]}}, {TEAM: "ml"}, "allow"),
    ("not-equals", {"StringNotEquals": {TEAM: "data"}}, {TEAM: "ml"}, "allow"),
    ("not-equals-same", {"StringNotEquals": {TEAM: "data"}}, {TEAM: "data"}, "implicit"),
    ("not-equals-absent-is-true", {"StringNotEquals": {TEAM: "data"}}, {}, "allow"),
    ("not-equals-values-are-nored", {"StringNotEquals": {TEAM: ["data", "ml"]}}, {TEAM: "ml"}, "implicit"),
    ("not-equals-values-none-match", {"StringNotEquals": {TEAM: ["data", "ml"]}}, {TEAM: "ops"}, "allow"),
    ("equals-ignore-case", {"StringEqualsIgnoreCase": {TEAM: "DATA"}}, {TEAM: "data"}, "allow"),
    ("equals-ignore-case-absent", {"StringEqualsIgnoreCase": {TEAM: "DATA"}}, {}, "implicit"),
    ("not-equals-ignore-case", {"StringNotEqualsIgnoreCase": {TEAM: "DATA"}}, {TEAM: "data"}, "implicit"),
    ("not-equals-ignore-case-absent", {"StringNotEqualsIgnoreCase": {TEAM: "DATA"}}, {}, "allow"),
    ("like", {"StringLike": {TEAM: "data-*"}}, {TEAM: "data-eng"}, "allow"),
    ("like-question", {"StringLike": {TEAM: "data-??"}}, {TEAM: "data-eu"}, "allow"),
    ("like-no-match", {"StringLike": {TEAM: "data-*"}}, {TEAM: "ml"}, "implicit"),
    ("like-case-sensitive", {"StringLike": {TEAM: "data-*"}}, {TEAM: "Data-eng"}, "implicit"),
    ("like-absent", {"StringLike": {TEAM: "*"}}, {}, "implicit"),
    ("like-star-matches-empty", {"StringLike": {TEAM: "*"}}, {TEAM: ""}, "allow"),
    ("not-like", {"StringNotLike": {TEAM: "data-*"}}, {TEAM: "ml"}, "allow"),
    ("not-like-match", {"StringNotLike": {TEAM: "data-*"}}, {TEAM: "data-x"}, "implicit"),
    ("not-like-absent-is-true", {"StringNotLike": {TEAM: "data-*"}}, {}, "allow"),
    ("keys-are-anded", {"StringEquals": {TEAM: "data", "aws:ResourceTag/env": "prod"}}, {TEAM: "data"}, "implicit"),
    ("keys-are-anded-both", {"StringEquals": {TEAM: "data", "aws:ResourceTag/env": "prod"}},
     {TEAM: "data", "aws:ResourceTag/env": "prod"}, "allow"),
    ("operators-are-anded", {"StringEquals": {TEAM: "data"}, "StringLike": {"aws:ResourceTag/env": "p*"}},
     {TEAM: "data", "aws:ResourceTag/env": "dev"}, "implicit"),
    ("if-exists-absent", {"StringEqualsIfExists": {TEAM: "data"}}, {}, "allow"),
    ("if-exists-other", {"StringEqualsIfExists": {TEAM: "data"}}, {TEAM: "ml"}, "implicit"),
    ("if-exists-same", {"StringEqualsIfExists": {TEAM: "data"}}, {TEAM: "data"}, "allow"),
    ("not-like-if-exists-absent", {"StringNotLikeIfExists": {TEAM: "x*"}}, {}, "allow"),
    ("null-true-absent", {"Null": {TEAM: "true"}}, {}, "allow"),
    ("null-true-present", {"Null": {TEAM: "true"}}, {TEAM: "data"}, "implicit"),
    ("null-false-present", {"Null": {TEAM: "false"}}, {TEAM: "data"}, "allow"),
    ("null-false-absent", {"Null": {TEAM: "false"}}, {}, "implicit"),
    ("null-json-boolean", {"Null": {TEAM: False}}, {TEAM: "data"}, "allow"),
    ("null-empty-list-is-absent", {"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []}, "allow"),
    ("bool", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, "allow"),
    ("bool-json", {"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"}, "allow"),
    ("bool-false", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, "implicit"),
    ("bool-absent", {"Bool": {"aws:SecureTransport": "true"}}, {}, "implicit"),
    ("bool-if-exists-absent", {"BoolIfExists": {"aws:SecureTransport": "true"}}, {}, "allow"),
    ("arn-like", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}}, {}, "allow"),
    ("arn-like-other", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {}, "implicit"),
    ("arn-equals-takes-wildcards-too", {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:user/alice"}}, {}, "allow"),
    ("arn-like-star-within-part", {"ArnLike": {"aws:PrincipalArn": "arn:aws:*:user/alice"}}, {}, "implicit"),
    ("arn-not-equals", {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/bob"}}, {}, "allow"),
    ("arn-not-like-match", {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, {}, "implicit"),
    ("arn-not-like-absent", {"ArnNotLike": {"aws:ResourceTag/owner": "arn:aws:iam::*:user/*"}}, {}, "allow"),
    ("arn-operators-match-only-arns", {"ArnLike": {"aws:ResourceTag/owner": "*"}}, {"aws:ResourceTag/owner": "alice"},
     "implicit"),
    ("arn-like-star-any-arn", {"ArnLike": {"aws:ResourceTag/owner": "*"}}, {"aws:ResourceTag/owner": ALICE}, "allow"),
    ("arn-equals-non-arn-value", {"ArnEquals": {"aws:ResourceTag/owner": "arn:*:*:*:*:*"}},
     {"aws:ResourceTag/owner": "alice"}, "implicit"),
    # set qualifiers over the multivalued aws:TagKeys
    ("for-all-subset", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}, {"aws:TagKeys": ["team"]},
     "allow"),
    ("for-all-extra-key", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
     {"aws:TagKeys": ["team", "cost"]}, "implicit"),
    ("for-all-absent-is-true", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, "allow"),
    ("for-all-empty-is-true", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {"aws:TagKeys": []}, "allow"),
    ("for-any", {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["x", "team"]}, "allow"),
    ("for-any-none", {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["x"]}, "implicit"),
    ("for-any-absent-is-false", {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, {}, "implicit"),
    ("for-any-if-exists-absent-is-still-false", {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}, {},
     "implicit"),
    ("for-all-like", {"ForAllValues:StringLike": {"aws:TagKeys": ["team*", "env"]}},
     {"aws:TagKeys": ["team-a", "env"]}, "allow"),
    ("for-any-not-equals", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]},
     "allow"),
    ("for-any-not-equals-all-listed", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}},
     {"aws:TagKeys": ["a", "b"]}, "implicit"),
    ("for-all-ignore-case", {"ForAllValues:StringEqualsIgnoreCase": {"aws:TagKeys": ["team"]}},
     {"aws:TagKeys": ["TEAM", "Team"]}, "allow"),
    ("list-without-qualifier-matches-any", {"StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["x", "team"]},
     "allow"),
    ("list-without-qualifier-negated", {"StringNotEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["x", "team"]},
     "implicit"),
    # names and values
    ("key-names-case-insensitive", {"StringEquals": {"AWS:resourcetag/TEAM": "data"}}, {TEAM: "data"}, "allow"),
    ("numbers-compare-as-strings", {"StringEquals": {"aws:ResourceTag/tier": 1}}, {"aws:ResourceTag/tier": "1"},
     "allow"),
]


@pytest.mark.parametrize(("condition", "context", "expected"), [pytest.param(*t[1:], id=t[0]) for t in CONDITIONS])
def test_conditions(condition: dict, context: dict, expected: str) -> None:
    assert outcome(when(condition), context=context) == expected


def test_for_all_values_not_like_deny_table_from_the_iam_guide() -> None:
    """IAM User Guide, multivalued context key examples: Deny with ForAllValues:StringNotLike aws:TagKeys key1*."""
    policies = [allow(), deny(condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}})]
    assert outcome(policies, context={"aws:TagKeys": ["key1:legal"]}) == "allow"
    assert outcome(policies, context={"aws:TagKeys": ["key1:hr", "key1:personnel"]}) == "allow"
    assert outcome(policies, context={"aws:TagKeys": ["key2:audit"]}) == "explicit"
    assert outcome(policies, context={}) == "explicit"


PT = "aws:PrincipalTag/team"
VARIABLES = [
    ("variable-matches", {"StringEquals": {TEAM: "${aws:PrincipalTag/team}"}}, {PT: "data", TEAM: "data"}, "allow"),
    ("variable-differs", {"StringEquals": {TEAM: "${aws:PrincipalTag/team}"}}, {PT: "data", TEAM: "ml"}, "implicit"),
    ("variable-without-value-matches-nothing", {"StringEquals": {TEAM: "${aws:PrincipalTag/team}"}}, {TEAM: ""},
     "implicit"),
    ("variable-without-value-negated-is-true", {"StringNotEquals": {TEAM: "${aws:PrincipalTag/team}"}},
     {TEAM: "data"}, "allow"),
    ("variable-default", {"StringEquals": {TEAM: "${aws:PrincipalTag/team, 'none'}"}}, {TEAM: "none"}, "allow"),
    ("variable-default-unused", {"StringEquals": {TEAM: "${aws:PrincipalTag/team, 'none'}"}},
     {PT: "data", TEAM: "none"}, "implicit"),
    ("variable-empty-default", {"StringEquals": {TEAM: "${aws:PrincipalTag/team, ''}"}}, {TEAM: ""}, "allow"),
    ("variable-empty-value", {"StringEquals": {TEAM: "${aws:PrincipalTag/team}"}}, {PT: "", TEAM: ""}, "allow"),
    ("variable-default-quote", {"StringEquals": {TEAM: "${aws:PrincipalTag/team, 'it''s'}"}}, {TEAM: "it's"},
     "allow"),
    ("variable-in-text", {"StringLike": {TEAM: "team-${aws:PrincipalTag/team}-*"}}, {PT: "data", TEAM: "team-data-x"},
     "allow"),
    ("substituted-value-is-literal", {"StringLike": {TEAM: "${aws:PrincipalTag/team}"}}, {PT: "*", TEAM: "data"},
     "implicit"),
    ("substituted-star-equals-star", {"StringLike": {TEAM: "${aws:PrincipalTag/team}"}}, {PT: "*", TEAM: "*"},
     "allow"),
    ("escaped-star", {"StringLike": {TEAM: "a${*}"}}, {TEAM: "a*"}, "allow"),
    ("escaped-star-is-literal", {"StringLike": {TEAM: "a${*}"}}, {TEAM: "ab"}, "implicit"),
    ("escaped-dollar", {"StringEquals": {TEAM: "${$}{x}"}}, {TEAM: "${x}"}, "allow"),
    ("multivalued-key-is-no-variable", {"StringEquals": {TEAM: "${aws:TagKeys}"}}, {"aws:TagKeys": ["a"], TEAM: "a"},
     "implicit"),
    ("arn-variable", {"ArnEquals": {"aws:ResourceTag/owner": "${aws:PrincipalArn}"}},
     {"aws:ResourceTag/owner": ALICE}, "allow"),
]


@pytest.mark.parametrize(("condition", "context", "expected"), [pytest.param(*t[1:], id=t[0]) for t in VARIABLES])
def test_policy_variables(condition: dict, context: dict, expected: str) -> None:
    assert outcome(when(condition), context=context) == expected


def test_variables_are_literal_text_in_2008_documents() -> None:
    condition = {"StringEquals": {TEAM: "${aws:PrincipalTag/team}"}}
    assert outcome(when(condition, version="2008-10-17"), context={PT: "data", TEAM: "data"}) == "implicit"
    assert outcome(when(condition, version="2008-10-17"), context={TEAM: "${aws:PrincipalTag/team}"}) == "allow"
    assert outcome([{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]}],
                   context={PT: "data", TEAM: "data"}) == "implicit"  # no Version is 2008-10-17


def test_variable_in_resource() -> None:
    policies = [allow(resource=f"arn:aws:airflow-serverless:*:{ACCOUNT}:workflow/${{aws:username}}-*")]
    mine = f"arn:aws:airflow-serverless:us-east-1:{ACCOUNT}:workflow/alice-AbCdEfGhIj"
    context = request_context(principal_arn=ALICE)
    assert evaluate(policies, action="airflow-serverless:GetWorkflow", resource=mine, context=context).allowed
    assert not evaluate(policies, action="airflow-serverless:GetWorkflow", resource=WF, context=context).allowed
    role = request_context(principal_arn=ROLE)  # roles have no aws:username: the pattern matches nothing
    assert not evaluate(policies, action="airflow-serverless:GetWorkflow", resource=mine, context=role).allowed


# ---------------------------------------------------------------- ABAC, as the guide describes it

ABAC = [{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ListEverything", "Effect": "Allow", "Action": "airflow-serverless:List*", "Resource": "*"},
        {"Sid": "OwnTeamsWorkflows", "Effect": "Allow",
         "Action": ["airflow-serverless:Get*", "airflow-serverless:UpdateWorkflow", "airflow-serverless:DeleteWorkflow",
                    "airflow-serverless:StartWorkflowRun", "airflow-serverless:StopWorkflowRun",
                    "airflow-serverless:ListTagsForResource"],
         "Resource": ALL_WF,
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        {"Sid": "CreateOnlyTaggedForOwnTeam", "Effect": "Allow",
         "Action": ["airflow-serverless:CreateWorkflow", "airflow-serverless:TagResource"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "cost-center"]}}},
        {"Sid": "TagsOnlyOnOwnWorkflows", "Effect": "Deny", "Action": "airflow-serverless:TagResource",
         "Resource": ALL_WF, "Condition": {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        {"Sid": "NeverRemoveTheTeamTag", "Effect": "Deny", "Action": "airflow-serverless:UntagResource",
         "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}},
    ],
}]

DATA = {"team": "data"}
# (id, action, resource, resource tags, request tags, tag keys, expected)
ABAC_CASES = [
    ("list", "ListWorkflows", "*", None, None, None, "allow"),
    ("get-own", "GetWorkflow", WF, DATA, None, None, "allow"),
    ("get-other-team", "GetWorkflow", WF, {"team": "ml"}, None, None, "implicit"),
    ("get-untagged", "GetWorkflow", WF, {}, None, None, "implicit"),
    ("start-own", "StartWorkflowRun", WF, DATA, None, None, "allow"),
    ("delete-other-team", "DeleteWorkflow", WF, {"team": "ml"}, None, None, "implicit"),
    ("create-tagged-own-team", "CreateWorkflow", "*", None, {"team": "data", "env": "prod"}, None, "allow"),
    ("create-tagged-other-team", "CreateWorkflow", "*", None, {"team": "ml"}, None, "implicit"),
    ("create-untagged", "CreateWorkflow", "*", None, {}, None, "implicit"),
    ("create-with-unlisted-tag-key", "CreateWorkflow", "*", None, {"team": "data", "owner": "x"}, None, "implicit"),
    ("retag-own", "TagResource", WF, DATA, {"team": "data", "env": "dev"}, None, "allow"),
    ("take-over-other-teams", "TagResource", WF, {"team": "ml"}, {"team": "data"}, None, "explicit"),
    ("untag-team", "UntagResource", WF, DATA, None, ["team"], "explicit"),
    ("untag-env-not-allowed-by-any-statement", "UntagResource", WF, DATA, None, ["env"], "implicit"),
]


@pytest.mark.parametrize(("action", "resource", "resource_tags", "request_tags", "tag_keys", "expected"),
                         [pytest.param(*t[1:], id=t[0]) for t in ABAC_CASES])
def test_abac_with_tags(action: str, resource: str, resource_tags: dict | None, request_tags: dict | None,
                        tag_keys: list | None, expected: str) -> None:
    context = request_context(principal_arn=ALICE, principal_tags=DATA, resource_tags=resource_tags,
                              request_tags=request_tags, tag_keys=tag_keys)
    d = evaluate(ABAC, action=f"airflow-serverless:{action}", resource=resource, context=context)
    assert ("explicit" if d.explicit_deny else "allow" if d.allowed else "implicit") == expected


def test_abac_policy_passes_validation() -> None:
    check_policy(ABAC[0], actions=["ListWorkflows", "GetWorkflow", "GetWorkflowRun", "UpdateWorkflow",
                                   "DeleteWorkflow", "StartWorkflowRun", "StopWorkflowRun", "ListTagsForResource",
                                   "CreateWorkflow", "TagResource", "UntagResource"])


# ---------------------------------------------------------------- context and messages

def test_request_context() -> None:
    ctx = request_context(principal_arn=f"arn:aws:iam::{ACCOUNT}:user/eng/alice", principal_tags={"team": "data"},
                          resource_tags={"env": "prod"}, request_tags={"a": "1", "b": "2"}, region="us-east-1",
                          secure_transport=False)
    assert ctx == {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/eng/alice", "aws:PrincipalAccount": ACCOUNT,
                   "aws:PrincipalType": "User", "aws:username": "alice", "aws:PrincipalTag/team": "data",
                   "aws:ResourceTag/env": "prod", "aws:RequestTag/a": "1", "aws:RequestTag/b": "2",
                   "aws:TagKeys": ["a", "b"], "aws:RequestedRegion": "us-east-1", "aws:SecureTransport": "false"}
    role = request_context(principal_arn=ROLE, tag_keys=["team"])
    assert role == {"aws:PrincipalArn": ROLE, "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "AssumedRole",
                    "aws:TagKeys": ["team"]}
    assert principal_type("not-an-arn") == ""


def test_denied_messages_as_aws_words_them() -> None:
    implicit = evaluate([], action="airflow-serverless:CreateWorkflow", resource="*", context={})
    assert implicit == Verdict(allowed=False, explicit_deny=False)
    assert denied_message(ALICE, "airflow-serverless:CreateWorkflow", "*", implicit) == (
        f"User: {ALICE} is not authorized to perform: airflow-serverless:CreateWorkflow on resource: * because no "
        "identity-based policy allows the airflow-serverless:CreateWorkflow action")
    explicit = evaluate([deny()], action="airflow-serverless:DeleteWorkflow", resource=WF, context={})
    assert explicit == Verdict(allowed=False, explicit_deny=True)
    assert denied_message(ROLE, "airflow-serverless:DeleteWorkflow", WF, explicit) == (
        f"User: {ROLE} is not authorized to perform: airflow-serverless:DeleteWorkflow on resource: {WF} with an "
        "explicit deny in an identity-based policy")
    with pytest.raises(ValueError):
        denied_message(ALICE, "a:b", "*", Verdict(allowed=True, explicit_deny=False))


def test_evaluate_refuses_what_it_cannot_read() -> None:
    with pytest.raises(PolicyError):
        evaluate([{"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}], action="a:b", resource="*",
                 context={})
    with pytest.raises(PolicyError):
        evaluate([allow(condition={"StringEqualz": {TEAM: "x"}})], action="airflow-serverless:GetWorkflow",
                 resource="*", context={})


# ---------------------------------------------------------------- validation

OPS = ["CreateWorkflow", "GetWorkflow", "ListWorkflows", "DeleteWorkflow"]
GOOD = {"Effect": "Allow", "Action": "airflow-serverless:GetWorkflow", "Resource": "*"}

# (id, document, message fragment)
INVALID = [
    ("not-object", ["x"], 'a policy document must be a JSON object'),
    ("unknown-element", {"Version": "2012-10-17", "Statement": [GOOD], "Statements": []},
     'unknown policy element "Statements"'),
    ("version", {"Version": "2012-10-18", "Statement": [GOOD]}, '"Version" must be "2012-10-17" or "2008-10-17"'),
    ("no-statement", {"Version": "2012-10-17"}, '"Statement" must be an object or a non-empty list'),
    ("empty-statement", {"Version": "2012-10-17", "Statement": []}, '"Statement" must be an object or a non-empty'),
    ("statement-not-object", {"Statement": ["x"]}, "Statement[0]: a statement must be a JSON object"),
    ("effect-case", {"Statement": [{**GOOD, "Effect": "allow"}]},
     "Statement[0]: \"Effect\" must be \"Allow\" or \"Deny\", got 'allow'"),
    ("effect-missing", {"Statement": {"Action": "*", "Resource": "*"}}, 'Statement: "Effect" must be'),
    ("principal", {"Statement": [{**GOOD, "Principal": "*"}]}, '"Principal" belongs in resource-based policies'),
    ("unknown-statement-element", {"Statement": [{**GOOD, "Conditions": {}}]},
     'Statement[0]: unknown statement element "Conditions"'),
    ("no-action", {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
     'Statement[0]: a statement needs exactly one of "Action" and "NotAction"'),
    ("action-and-not-action", {"Statement": [{**GOOD, "NotAction": "x:y"}]}, 'exactly one of "Action" and "NotAction"'),
    ("no-resource", {"Statement": [{"Effect": "Allow", "Action": "*"}]},
     'exactly one of "Resource" and "NotResource"'),
    ("action-shape", {"Statement": [{**GOOD, "Action": "GetWorkflow"}]},
     "Statement[0]: \"Action\": 'GetWorkflow' must be \"*\" or \"<service>:<action>\""),
    ("action-empty-list", {"Statement": [{**GOOD, "Action": []}]},
     '"Action" must be a non-empty string or a non-empty list'),
    ("action-typo", {"Statement": [{**GOOD, "Action": "airflow-serverless:GetWorkflows"}]},
     "'airflow-serverless:GetWorkflows' matches no airflow-serverless action (did you mean "
     "\"airflow-serverless:GetWorkflow\"?)"),
    ("resource-not-arn", {"Statement": [{**GOOD, "Resource": "workflow/etl"}]},
     "Statement[0]: \"Resource\": 'workflow/etl' must be \"*\" or an ARN"),
    ("resource-too-few-parts", {"Statement": [{**GOOD, "Resource": "arn:aws:airflow-serverless:*"}]},
     "must be \"*\" or an ARN"),
    ("condition-empty", {"Statement": [{**GOOD, "Condition": {}}]}, '"Condition" must be a non-empty object'),
    ("operator-typo", {"Statement": [{**GOOD, "Condition": {"StringEqual": {TEAM: "x"}}}]},
     'unsupported condition operator "StringEqual" (did you mean "StringEquals"?)'),
    ("operator-unsupported", {"Statement": [{**GOOD, "Condition": {"IpAddress": {TEAM: "x"}}}]},
     'unsupported condition operator "IpAddress"'),
    ("null-if-exists", {"Statement": [{**GOOD, "Condition": {"NullIfExists": {TEAM: "true"}}}]},
     'Null takes no "IfExists" suffix'),
    ("bool-qualifier", {"Statement": [{**GOOD, "Condition": {"ForAnyValue:Bool": {TEAM: "true"}}}]},
     "Bool takes no set prefix"),
    ("unknown-key", {"Statement": [{**GOOD, "Condition": {"StringEquals": {"aws:ResourceTags/team": "x"}}}]},
     '"Condition" "StringEquals" "aws:ResourceTags/team": unknown condition key; the request context has '
     "aws:PrincipalArn"),
    ("tag-key-missing", {"Statement": [{**GOOD, "Condition": {"StringEquals": {"aws:ResourceTag/": "x"}}}]},
     "unknown condition key"),
    ("null-value", {"Statement": [{**GOOD, "Condition": {"Null": {TEAM: "yes"}}}]},
     'the value must be "true" or "false"'),
    ("value-type", {"Statement": [{**GOOD, "Condition": {"StringEquals": {TEAM: {"a": 1}}}}]},
     "the value must be a string, boolean or number"),
    ("block-not-object", {"Statement": [{**GOOD, "Condition": {"StringEquals": "x"}}]},
     '"Condition" "StringEquals" must be a non-empty object'),
    ("variable-unknown-key", {"Version": "2012-10-17",
                              "Statement": [{**GOOD, "Condition": {"StringEquals": {TEAM: "${aws:userName2}"}}}]},
     'policy variable "${aws:userName2}" names no single-valued key'),
    ("variable-multivalued", {"Version": "2012-10-17",
                              "Statement": [{**GOOD, "Condition": {"StringEquals": {TEAM: "${aws:TagKeys}"}}}]},
     'policy variable "${aws:TagKeys}" names no single-valued key'),
    ("variable-unclosed", {"Version": "2012-10-17",
                           "Statement": [{**GOOD,
                                          "Resource": "arn:aws:airflow-serverless:*:*:workflow/${aws:username"}]},
     '"${" without a closing "}"'),
    ("variable-bad-default", {"Version": "2012-10-17",
                              "Statement": [{**GOOD, "Condition": {"StringEquals": {TEAM: "${aws:username, x}"}}}]},
     "is not ${key} or ${key, 'default'}"),
]


@pytest.mark.parametrize(("document", "fragment"), [pytest.param(*t[1:], id=t[0]) for t in INVALID])
def test_invalid_policies_name_the_problem(document: Any, fragment: str) -> None:
    with pytest.raises(PolicyError) as e:
        check_policy(document, actions=OPS)
    assert fragment in str(e.value)


def test_valid_policies_pass() -> None:
    check_policy({"Version": "2012-10-17", "Id": "x", "Statement": [
        {"Sid": "a", "Effect": "Deny", "NotAction": ["airflow-serverless:Get*", "s3:GetObject"],
         "NotResource": ALL_WF, "Condition": {"ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
                                              "Null": {TEAM: True}, "BoolIfExists": {"aws:SecureTransport": "false"},
                                              "ArnNotLike": {"aws:PrincipalArn": "${aws:PrincipalArn}"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ]}, actions=OPS)
    # 2008-10-17: ${...} is literal text, so it is not checked as a variable
    check_policy({"Version": "2008-10-17", "Statement": {**GOOD, "Condition": {"StringEquals": {TEAM: "${x"}}}})
    # without `actions`, any airflow-serverless action name is accepted
    check_policy({"Statement": {**GOOD, "Action": "airflow-serverless:SomethingNew"}})
