"""IAM identity-based policy evaluation (pure): may this principal call this action on this resource?

The guide's access model: identity-based policies only (no resource policies), actions
`airflow-serverless:<Operation>`, workflow ARNs as resources (`*` for actions without a resource,
such as ListWorkflows), and ABAC through the global keys `aws:ResourceTag/<key>`,
`aws:RequestTag/<key>` and `aws:TagKeys`. `evaluate` follows IAM's logic for one principal's
policies: an applicable Deny wins, else an applicable Allow allows, else the request is implicitly
denied. `check_policy` validates a document up front (credentials.py calls it when loading), so a
typo fails at start-up and never silently grants or withholds access at request time.

IAM semantics kept here, from the IAM User Guide (reference_policies_elements_condition_operators,
reference_policies_condition-single-vs-multi-valued-context-keys, reference_policies_variables):
- Several operators in a Condition, and several keys under one operator, are ANDed; several values
  for one key are ORed (NOR for the negated operators).
- A key absent from the request context: the condition is false, except for the negated operators
  (StringNotEquals, StringNotLike, ArnNotEquals, ...), where it is TRUE ("If the policy condition
  requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is
  not present, the condition is true"), for ...IfExists (true) and for Null (which tests exactly that).
- ForAllValues: true when every request value matches some policy value, and true when the key is
  absent or empty. ForAnyValue: true when some request value matches, false when the key is absent
  or empty. IfExists under a set qualifier is applied per value inside the loop, so it cannot turn
  an absent key into a match: ForAnyValue:StringEqualsIfExists on an absent key is false, as AWS
  answers in practice (re:Post "ForAnyValue:StringEqualsIfExists behaving unexpectedly").
- A list in the context used without a set qualifier (not recommended by IAM) matches when any of
  its values matches; the negated operators are the negation of that.
- Policy variables (`${aws:PrincipalTag/team}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}`) are
  substituted in Resource/NotResource and in String/Arn/Bool condition values, only when the
  document's Version is 2012-10-17 (under 2008-10-17 they are literal text, as in IAM). A variable
  with no value and no default leaves that value with nothing to equal or be like: it matches
  nothing (so a negated operator over it is true).
- Action names and condition key names are case-insensitive; ARNs, Resource patterns and
  StringEquals/StringLike values are case-sensitive. In Resource and Arn* patterns `*` and `?`
  stay within one of the first five colon-separated ARN parts and may span anything in the resource
  part; a Resource of `*` matches everything, including the `*` of actions without a resource.
  ArnEquals and ArnLike are the same test (IAM documents both as part-by-part with wildcards), and
  the Arn operators match only values that are ARNs.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SERVICE_PREFIX = "airflow-serverless"
VERSIONS = ("2012-10-17", "2008-10-17")
VARIABLES_VERSION = "2012-10-17"

STRING_OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                    "StringLike", "StringNotLike")
ARN_OPERATORS = ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
OPERATORS = (*STRING_OPERATORS, *ARN_OPERATORS, "Bool", "Null")
NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"})
QUALIFIERS = ("ForAllValues", "ForAnyValue")

# The keys of the request context Updraft builds (see request_context). Condition keys naming
# anything else are refused at load time: they could never match, which is always a mistake.
CONTEXT_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:username", "aws:TagKeys",
                "aws:RequestedRegion", "aws:SecureTransport", "iam:PassedToService")
PASS_ROLE = "iam:PassRole"
PASSED_TO_SERVICE = "airflow-serverless.amazonaws.com"  # iam:PassedToService when a workflow is given a role
CONTEXT_KEY_PREFIXES = ("aws:PrincipalTag/", "aws:ResourceTag/", "aws:RequestTag/")
MULTIVALUED_KEYS = frozenset({"aws:tagkeys"})

STATEMENT_ELEMENTS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


class PolicyError(ValueError):
    """A policy document Updraft cannot evaluate; the message names the element and the rule."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    explicit_deny: bool


# ---------------------------------------------------------------- request context

def principal_type(arn: str) -> str:
    """aws:PrincipalType for the ARN: User, AssumedRole (roles and assumed-role sessions), or ''."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    if resource.startswith("user/"):
        return "User"
    if resource.startswith(("role/", "assumed-role/")):
        return "AssumedRole"
    return ""


def request_context(*, principal_arn: str, principal_tags: Mapping[str, str] | None = None,
                    resource_tags: Mapping[str, str] | None = None, request_tags: Mapping[str, str] | None = None,
                    tag_keys: Sequence[str] | None = None, region: str | None = None,
                    secure_transport: bool | None = None, passed_to_service: str | None = None
                    ) -> dict[str, str | list[str]]:
    """The condition keys of one request. `resource_tags` are the tags of the workflow acted on,
    `request_tags` the tags the request sets (CreateWorkflow, TagResource); `aws:TagKeys` is
    `tag_keys` when given (UntagResource: the keys being removed), else the request tags' keys."""
    ctx: dict[str, str | list[str]] = {"aws:PrincipalArn": principal_arn}
    parts = principal_arn.split(":", 5)
    if len(parts) == 6:
        ctx["aws:PrincipalAccount"] = parts[4]
    kind = principal_type(principal_arn)
    if kind:
        ctx["aws:PrincipalType"] = kind
    if kind == "User":
        ctx["aws:username"] = parts[5].rsplit("/", 1)[-1]
    for prefix, tags in (("aws:PrincipalTag/", principal_tags), ("aws:ResourceTag/", resource_tags),
                         ("aws:RequestTag/", request_tags)):
        for key, value in (tags or {}).items():
            ctx[prefix + key] = value
    keys = list(tag_keys) if tag_keys is not None else list(request_tags or {})
    if keys:
        ctx["aws:TagKeys"] = keys
    if region is not None:
        ctx["aws:RequestedRegion"] = region
    if secure_transport is not None:
        ctx["aws:SecureTransport"] = "true" if secure_transport else "false"
    if passed_to_service is not None:
        ctx["iam:PassedToService"] = passed_to_service
    return ctx


def _normalize_context(context: Mapping[str, str | list[str]]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """lower-case key -> (values, multivalued); an empty list is the same as an absent key."""
    out: dict[str, tuple[tuple[str, ...], bool]] = {}
    for key, value in context.items():
        if isinstance(value, str):
            out[key.lower()] = ((value,), False)
        elif value:
            out[key.lower()] = (tuple(value), True)
    return out


def _known_key(key: str) -> bool:
    low = key.lower()
    return (low in {k.lower() for k in CONTEXT_KEYS}
            or any(low.startswith(p.lower()) and len(low) > len(p) for p in CONTEXT_KEY_PREFIXES))


# ---------------------------------------------------------------- patterns and variables

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"^\s*([^,'\s]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")
_Tokens = tuple[tuple[str, str], ...]  # ("lit", text) | ("*", "") | ("?", "")


def _wild_tokens(text: str) -> list[tuple[str, str]]:
    return [(part, "") if part in ("*", "?") else ("lit", part) for part in re.split(r"([*?])", text) if part]


def _resolve(body: str, ctx: Mapping[str, tuple[tuple[str, ...], bool]]) -> str | None:
    if body in ("*", "?", "$"):
        return body
    m = _VARIABLE_BODY.match(body)
    if not m:
        return None
    found = ctx.get(m.group(1).lower())
    if found is not None and not found[1]:
        return found[0][0]
    return m.group(2).replace("''", "'") if m.group(2) is not None else None


def _expand(text: str, ctx: Mapping[str, tuple[tuple[str, ...], bool]], variables: bool) -> _Tokens | None:
    """The pattern as tokens, variables replaced by literal text; None if a variable has no value."""
    if not variables:
        return tuple(_wild_tokens(text))
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        out += _wild_tokens(text[pos:m.start()])
        value = _resolve(m.group(1), ctx)
        if value is None:
            return None
        out.append(("lit", value))
        pos = m.end()
    out += _wild_tokens(text[pos:])
    return tuple(out)


def _literal(tokens: _Tokens) -> str:
    return "".join(text if kind == "lit" else kind for kind, text in tokens)


@functools.lru_cache(maxsize=4096)
def _regex(tokens: _Tokens, arn: bool, ignore_case: bool) -> re.Pattern[str]:
    if tokens == (("*", ""),):
        return re.compile(".*", re.S)
    parts, colons = [], 0
    for kind, text in tokens:
        if kind == "lit":
            parts.append(re.escape(text))
            colons += text.count(":")
        else:
            within_part = arn and colons < 5  # ARN parts before the resource part hold no ':'
            parts.append(("[^:]*" if within_part else ".*") if kind == "*" else ("[^:]" if within_part else "."))
    return re.compile("".join(parts), re.S | (re.I if ignore_case else 0))


def _like(tokens: _Tokens, value: str, *, arn: bool = False, ignore_case: bool = False) -> bool:
    return _regex(tokens, arn, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """IAM's Action matching: `*` and `?` wildcards, case-insensitive."""
    return _like(tuple(_wild_tokens(pattern)), action, ignore_case=True)


def _value_matches(base: str, tokens: _Tokens, value: str) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return _literal(tokens) == value
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return _literal(tokens).casefold() == value.casefold()
    if base in ("StringLike", "StringNotLike"):
        return _like(tokens, value)
    if base in ARN_OPERATORS:  # ArnEquals and ArnLike both match part by part with wildcards (IAM docs)
        return value.count(":") >= 5 and _like(tokens, value, arn=True)
    if base == "Bool":
        return _literal(tokens).lower() == value.lower()
    raise PolicyError(f'unsupported condition operator "{base}"')


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True)
class _Operator:
    base: str
    qualifier: str | None
    if_exists: bool


def _parse_operator(name: str) -> _Operator:
    rest, qualifier = name, None
    for q in QUALIFIERS:
        if rest.startswith(q + ":"):
            rest, qualifier = rest[len(q) + 1:], q
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[:-len("IfExists")] if if_exists else rest
    if base not in OPERATORS:
        known = [*OPERATORS, *(o + "IfExists" for o in OPERATORS if o != "Null")]
        near = difflib.get_close_matches(rest, known, n=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        raise PolicyError(f'unsupported condition operator "{name}"{hint}; supported: {", ".join(OPERATORS)}, '
                          f'each with an optional "IfExists" suffix (not Null) and, for String and Arn '
                          f'operators, an optional "ForAllValues:" or "ForAnyValue:" prefix')
    if base == "Null" and (if_exists or qualifier):
        raise PolicyError(f'condition operator "{name}": Null takes no "IfExists" suffix and no set prefix')
    if base == "Bool" and qualifier:
        raise PolicyError(f'condition operator "{name}": Bool takes no set prefix')
    return _Operator(base, qualifier, if_exists)


def _strings(value: Any) -> list[str] | None:
    """A condition value as strings (JSON booleans and numbers as IAM reads them), or None if unusable."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
        else:
            return None
    return out or None


def _condition_holds(op: _Operator, present: tuple[str, ...] | None, policy_values: list[str],
                     ctx: Mapping[str, tuple[tuple[str, ...], bool]], variables: bool) -> bool:
    if op.base == "Null":
        return any((present is None) == (v.lower() == "true") for v in policy_values)
    negated = op.base in NEGATED
    patterns = [t for t in (_expand(v, ctx, variables) for v in policy_values) if t is not None]

    def matches(value: str) -> bool:
        hit = any(_value_matches(op.base, tokens, value) for tokens in patterns)
        return not hit if negated else hit

    if op.qualifier is None:
        if present is None:
            return op.if_exists or negated
        hit = any(_value_matches(op.base, tokens, value) for tokens in patterns for value in present)
        return not hit if negated else hit
    if present is None:
        return op.qualifier == "ForAllValues"
    results = [matches(value) for value in present]
    return all(results) if op.qualifier == "ForAllValues" else any(results)


def _conditions_hold(condition: Mapping[str, Any], ctx: Mapping[str, tuple[tuple[str, ...], bool]],
                     variables: bool) -> bool:
    for op_name, block in condition.items():
        op = _parse_operator(op_name)
        for key, value in block.items():
            found = ctx.get(key.lower())
            values = _strings(value)
            if values is None:
                raise PolicyError(f'condition "{op_name}" "{key}": values must be strings, booleans or numbers')
            if not _condition_holds(op, found[0] if found else None, values, ctx, variables):
                return False
    return True


# ---------------------------------------------------------------- evaluation

def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _as_list(document.get("Statement", []))


def _resource_matches(pattern: str, resource: str, ctx: Mapping[str, tuple[tuple[str, ...], bool]],
                      variables: bool) -> bool:
    tokens = _expand(pattern, ctx, variables)
    return tokens is not None and _like(tokens, resource, arn=True)


def _applies(stmt: Mapping[str, Any], action: str, resource: str, ctx: Mapping[str, tuple[tuple[str, ...], bool]],
             variables: bool) -> bool:
    if "Action" in stmt:
        if not any(action_matches(p, action) for p in _as_list(stmt["Action"])):
            return False
    elif any(action_matches(p, action) for p in _as_list(stmt.get("NotAction", []))):
        return False
    if "Resource" in stmt:
        if not any(_resource_matches(p, resource, ctx, variables) for p in _as_list(stmt["Resource"])):
            return False
    elif any(_resource_matches(p, resource, ctx, variables) for p in _as_list(stmt.get("NotResource", []))):
        return False
    return _conditions_hold(stmt.get("Condition") or {}, ctx, variables)


def evaluate(policies: Sequence[Mapping[str, Any]] | None, *, action: str, resource: str,
             context: Mapping[str, str | list[str]]) -> Verdict:
    """IAM's decision for one request. `policies` None means the principal was configured with
    `"fullAccess": true` (credentials.py): every action is allowed; an empty sequence allows nothing."""
    if policies is None:
        return Verdict(allowed=True, explicit_deny=False)
    ctx = _normalize_context(context)
    allowed = False
    for document in policies:
        variables = document.get("Version") == VARIABLES_VERSION
        for stmt in _statements(document):
            effect = stmt.get("Effect")
            if effect not in ("Allow", "Deny"):
                raise PolicyError(f'"Effect" must be "Allow" or "Deny", got {effect!r}')
            if _applies(stmt, action, resource, ctx, variables):
                if effect == "Deny":
                    return Verdict(allowed=False, explicit_deny=True)
                allowed = True
    return Verdict(allowed=allowed, explicit_deny=False)


def denied_message(principal_arn: str, action: str, resource: str, decision: Verdict) -> str:
    """AWS's AccessDeniedException message for a denied decision."""
    if decision.allowed:
        raise ValueError("denied_message needs a decision that denies")
    head = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    if decision.explicit_deny:
        return f"{head} with an explicit deny in an identity-based policy"
    return f"{head} because no identity-based policy allows the {action} action"


# ---------------------------------------------------------------- validation

_ACTION = re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$")


def _check_strings(stmt: Mapping[str, Any], element: str, where: str) -> list[str]:
    value = stmt[element]
    items = _as_list(value)
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f'{where}: "{element}" must be a non-empty string or a non-empty list of them')
    return items


def _check_variables(text: str, where: str) -> None:
    pos = 0
    for m in _VARIABLE.finditer(text):
        body = m.group(1)
        pos = m.end()
        if body in ("*", "?", "$"):
            continue
        parsed = _VARIABLE_BODY.match(body)
        if not parsed:
            raise PolicyError(f"{where}: policy variable \"${{{body}}}\" is not ${{key}} or ${{key, 'default'}}")
        key = parsed.group(1)
        if not _known_key(key) or key.lower() in MULTIVALUED_KEYS:
            raise PolicyError(f'{where}: policy variable "${{{body}}}" names no single-valued key of the request '
                              f'context ({_keys_help()})')
    if "${" in text[pos:]:
        raise PolicyError(f'{where}: "${{" without a closing "}}" in {text!r}')


def _keys_help() -> str:
    return ", ".join([*CONTEXT_KEYS, *(p + "<key>" for p in CONTEXT_KEY_PREFIXES)])


def _check_resource(pattern: str, where: str, variables: bool) -> None:
    if variables:
        _check_variables(pattern, where)
    if pattern != "*" and (not pattern.startswith("arn:") or pattern.count(":") < 5):
        raise PolicyError(f'{where}: {pattern!r} must be "*" or an ARN '
                          f'(arn:<partition>:<service>:<region>:<account>:<resource>, wildcards allowed)')


def _check_action(pattern: str, where: str, actions: Collection[str] | None) -> None:
    if not _ACTION.match(pattern):
        raise PolicyError(f'{where}: {pattern!r} must be "*" or "<service>:<action>" (wildcards * and ? allowed)')
    service, _, name = pattern.partition(":")
    if actions is not None and service.lower() == SERVICE_PREFIX:
        if not any(action_matches(pattern, f"{SERVICE_PREFIX}:{a}") for a in actions):
            near = difflib.get_close_matches(name, list(actions), n=1)
            hint = f' (did you mean "{SERVICE_PREFIX}:{near[0]}"?)' if near else ""
            raise PolicyError(f"{where}: {pattern!r} matches no {SERVICE_PREFIX} action{hint}")


def _check_condition(condition: Any, where: str, variables: bool) -> None:
    if not isinstance(condition, Mapping) or not condition:
        raise PolicyError(f'{where}: "Condition" must be a non-empty object of operator -> {{key: value(s)}}')
    for op_name, block in condition.items():
        try:
            op = _parse_operator(op_name)
        except PolicyError as e:
            raise PolicyError(f"{where}: {e}") from None
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f'{where}: "Condition" "{op_name}" must be a non-empty object of key -> value(s)')
        for key, value in block.items():
            at = f'{where}: "Condition" "{op_name}" "{key}"'
            if not _known_key(key):
                raise PolicyError(f"{at}: unknown condition key; the request context has {_keys_help()}")
            values = _strings(value)
            if values is None:
                raise PolicyError(f"{at}: the value must be a string, boolean or number, or a non-empty list of them")
            if op.base in ("Null", "Bool") and any(v.lower() not in ("true", "false") for v in values):
                raise PolicyError(f'{at}: the value must be "true" or "false"')
            if variables and op.base != "Null":
                for v in values:
                    _check_variables(v, at)


def check_policy(document: Any, *, actions: Collection[str] | None = None) -> None:
    """Raise PolicyError naming the first problem. `actions` (operation names such as
    "CreateWorkflow"), when given, makes every airflow-serverless Action pattern match at least one."""
    if not isinstance(document, Mapping):
        raise PolicyError("a policy document must be a JSON object with \"Version\" and \"Statement\"")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise PolicyError(f'unknown policy element "{unknown[0]}" (a policy has Version, Id and Statement)')
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError(f'"Version" must be "2012-10-17" or "2008-10-17", got {version!r}')
    variables = version == VARIABLES_VERSION
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        indexed = [("Statement", statements)]
    elif isinstance(statements, list) and statements:
        indexed = [(f"Statement[{i}]", s) for i, s in enumerate(statements)]
    else:
        raise PolicyError('"Statement" must be an object or a non-empty list of objects')
    for where, stmt in indexed:
        if not isinstance(stmt, Mapping):
            raise PolicyError(f"{where}: a statement must be a JSON object")
        for element in stmt:
            if element in ("Principal", "NotPrincipal"):
                raise PolicyError(f'{where}: "{element}" belongs in resource-based policies; these are '
                                  f"identity-based policies (the principal is the access key's)")
            if element not in STATEMENT_ELEMENTS:
                raise PolicyError(f'{where}: unknown statement element "{element}" '
                                  f"(a statement has {', '.join(STATEMENT_ELEMENTS)})")
        if "Sid" in stmt and not isinstance(stmt["Sid"], str):
            raise PolicyError(f'{where}: "Sid" must be a string')
        if stmt.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f'{where}: "Effect" must be "Allow" or "Deny", got {stmt.get("Effect")!r}')
        for one, other in (("Action", "NotAction"), ("Resource", "NotResource")):
            if (one in stmt) == (other in stmt):
                raise PolicyError(f'{where}: a statement needs exactly one of "{one}" and "{other}"')
        for element in ("Action", "NotAction"):
            if element in stmt:
                for pattern in _check_strings(stmt, element, where):
                    _check_action(pattern, f'{where}: "{element}"', actions)
        for element in ("Resource", "NotResource"):
            if element in stmt:
                for pattern in _check_strings(stmt, element, where):
                    _check_resource(pattern, f'{where}: "{element}"', variables)
        if "Condition" in stmt:
            _check_condition(stmt["Condition"], where, variables)
