"""The API's access keys: who may sign requests, and with which IAM policies (parsing is pure;
`load_credentials` reads one file).

The file is JSON, one entry per access key id:

    {"AKIAIOSFODNN7EXAMPLE": {
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "principal": "arn:aws:iam::123456789012:user/alice",
        "tags": {"team": "data"},
        "policies": [{"Version": "2012-10-17", "Statement": [...]}]},
     "AKIAEXAMPLEADMIN0001": {
        "secretAccessKey": "...", "principal": "arn:aws:iam::123456789012:user/admin",
        "fullAccess": true}}

- `principal` is the IAM user or role ARN the key acts as; it appears in authorization errors and
  in the audit log, and its account is the account of the key.
- `tags` (optional) are the principal's tags, the `aws:PrincipalTag/<key>` condition keys that ABAC
  policies compare with `aws:ResourceTag/<key>`.
- `policies` are identity-based policy documents, evaluated by policy.py (`"policies": []` allows
  nothing). `"fullAccess": true` instead allows every action, iam:PassRole included
  (Principal.policies is None), as for a single-user installation. Every entry has exactly one of
  the two: an entry with neither is refused, so a misspelt or forgotten key never grants access
  (before issue 21 a missing "policies" meant full access).

Everything is validated when the file is loaded, policies included, and the first problem raises
CredentialsError naming the file, the access key, the field and the rule, so a typo stops the
server at start-up instead of granting or withholding access later."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from updraft.api.policy import PolicyError, check_policy

# IAM's accessKeyIdType: [\w]+, 16 to 128 characters
ACCESS_KEY_ID = re.compile(r"^\w{16,128}$", re.ASCII)
PRINCIPAL_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(\d{12}):(user|role)/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,128}$",
                           re.ASCII)
FIELDS = ("secretAccessKey", "principal", "tags", "policies", "fullAccess")


class CredentialsError(ValueError):
    """The credentials file is unusable; the message says where and why."""


@dataclass(frozen=True)
class Principal:
    """One access key and the identity it signs for. `policies` None means the file said
    `"fullAccess": true`: every action is allowed. An empty tuple allows nothing."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    arn: str
    policies: tuple[Mapping[str, Any], ...] | None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def account_id(self) -> str:
        return self.arn.split(":")[4]


def _fail(source: str, key: str, message: str) -> CredentialsError:
    return CredentialsError(f'{source}: "{key}": {message}')


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise CredentialsError(f'"{k}" appears twice in the same object')
        seen[k] = v
    return seen


def _tags(source: str, key: str, value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise _fail(source, key, '"tags" must be an object of tag key -> tag value')
    for k, v in value.items():
        if not 1 <= len(k) <= 128:
            raise _fail(source, key, f'"tags": tag key {k!r} must be 1 to 128 characters')
        if not isinstance(v, str) or len(v) > 256:
            raise _fail(source, key, f'"tags": the value of {k!r} must be a string of at most 256 characters')
    return MappingProxyType(dict(value))


def _policies(source: str, key: str, value: Any, actions: Collection[str] | None) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list):
        raise _fail(source, key, '"policies" must be a list of IAM policy documents ({"Version": ..., '
                                 '"Statement": [...]})')
    for i, document in enumerate(value):
        try:
            check_policy(document, actions=actions)
        except PolicyError as e:
            raise _fail(source, key, f'"policies"[{i}]: {e}') from None
    return tuple(value)


def _principal(source: str, key: str, entry: Any, actions: Collection[str] | None) -> Principal:
    if not ACCESS_KEY_ID.match(key):
        raise CredentialsError(f'{source}: "{key}": an access key id must be 16 to 128 letters, digits or '
                               f"underscores (like AKIAIOSFODNN7EXAMPLE)")
    if not isinstance(entry, Mapping):
        raise _fail(source, key, 'must be an object with "secretAccessKey" and "principal"')
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise _fail(source, key, f'unknown field "{unknown[0]}" (fields: {", ".join(FIELDS)}); nothing is '
                                 "granted for a field the server does not know")
    secret = entry.get("secretAccessKey")
    if not isinstance(secret, str) or not secret:
        raise _fail(source, key, '"secretAccessKey" must be a non-empty string')
    if secret != secret.strip():
        raise _fail(source, key, '"secretAccessKey" must not start or end with white space')
    arn = entry.get("principal")
    if not isinstance(arn, str) or not PRINCIPAL_ARN.match(arn):
        raise _fail(source, key, f'"principal" must be an IAM ARN (arn:aws:iam::<12 digits>:user/... or role/...), '
                                 f"got {arn!r}")
    tags = _tags(source, key, entry["tags"]) if "tags" in entry else MappingProxyType({})
    full = entry.get("fullAccess")
    if "fullAccess" in entry and full is not True:
        raise _fail(source, key, f'"fullAccess" must be true when given (leave it out and use "policies" to '
                                 f"allow less), got {full!r}")
    if full and "policies" in entry:
        raise _fail(source, key, 'has both "fullAccess" and "policies"; give one of them')
    if not full and "policies" not in entry:
        raise _fail(source, key, 'has no "policies": give it a list of IAM policy documents, or "fullAccess": true '
                                 "to allow every action (an entry without either grants nothing and is refused)")
    policies = None if full else _policies(source, key, entry["policies"], actions)
    return Principal(access_key_id=key, secret_access_key=secret, arn=arn, policies=policies, tags=tags)


def parse_credentials(text: str, source: str, *, actions: Collection[str] | None = None) -> dict[str, Principal]:
    """Access key id -> Principal. `source` names the file in messages. `actions`, when given (the
    service's operation names), makes every airflow-serverless Action in a policy match one of them."""
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates)
    except CredentialsError as e:
        raise CredentialsError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise CredentialsError(f"{source}: not valid JSON: {e}") from None
    if not isinstance(data, Mapping):
        raise CredentialsError(f"{source}: must be a JSON object of access key id -> "
                               '{"secretAccessKey": ..., "principal": ..., "policies": [...]}')
    if not data:
        raise CredentialsError(f"{source}: has no access keys, so no request could ever be signed")
    return {key: _principal(source, key, entry, actions) for key, entry in data.items()}


def load_credentials(path: str, *, actions: Collection[str] | None = None) -> dict[str, Principal]:
    """Read and parse the credentials file at `path` (the only I/O in this module)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CredentialsError(f"{path}: cannot read the credentials file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise CredentialsError(f"{path}: not UTF-8 text: {e}") from None
    return parse_credentials(text, path, actions=actions)
