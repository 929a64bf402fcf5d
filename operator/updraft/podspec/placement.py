"""Where task pods may run (pure): the operator-wide nodeSelector, tolerations and affinity, checked
once at start-up so that a mistake is reported there, naming the field and the rule, instead of
as a refused pod in every run.

The checks follow the Kubernetes API's own rules for these fields (core/v1 validation) as far as
their shape goes; what only a cluster can judge (whether a node with that label exists) is left
to the scheduler."""

from __future__ import annotations

import re
from typing import Any, Mapping

NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
TOLERATION_FIELDS = {"key", "operator", "value", "effect", "tolerationSeconds"}
TOLERATION_OPERATORS = {"Exists", "Equal"}
TAINT_EFFECTS = {"NoSchedule", "PreferNoSchedule", "NoExecute"}
AFFINITY_KINDS = {"nodeAffinity", "podAffinity", "podAntiAffinity"}
SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}


class PlacementError(ValueError):
    """A placement field breaks a Kubernetes rule; the message names the field."""


def label_key(where: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise PlacementError(f"{where}: a label key must be a non-empty string")
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not PREFIX.match(prefix)):
        raise PlacementError(f"{where}: key {key!r}: the prefix must be a DNS subdomain")
    if len(name) > 63 or not NAME.match(name):
        raise PlacementError(f"{where}: key {key!r}: the name must be at most 63 characters of "
                             "[A-Za-z0-9-_.], starting and ending with an alphanumeric")
    return key


def label_value(where: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > 63 or not VALUE.match(value):
        raise PlacementError(f"{where}: value {value!r} must be a string of at most 63 characters of "
                             "[A-Za-z0-9-_.], starting and ending with an alphanumeric (or empty)")
    return value


def node_selector(raw: object, where: str = "nodeSelector") -> dict[str, str]:
    """A nodeSelector: label keys to label values."""
    if not isinstance(raw, Mapping):
        raise PlacementError(f"{where}: expected an object of label keys to values")
    return {label_key(where, k): label_value(f"{where}.{k}", v) for k, v in raw.items()}


def toleration(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise PlacementError(f"{where}: expected an object")
    unknown = set(raw) - TOLERATION_FIELDS
    if unknown:
        raise PlacementError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(TOLERATION_FIELDS)}")
    key, op, value, effect = raw.get("key", ""), raw.get("operator", "Equal"), raw.get("value", ""), raw.get("effect", "")
    if key:
        label_key(f"{where}.key", key)
    if op not in TOLERATION_OPERATORS:
        raise PlacementError(f"{where}.operator: {op!r} must be one of {sorted(TOLERATION_OPERATORS)}")
    if not key and op != "Exists":
        raise PlacementError(f"{where}.operator: an empty key (every taint) needs operator Exists")
    if op == "Exists" and value:
        raise PlacementError(f"{where}.value: must be empty with operator Exists")
    if value:
        label_value(f"{where}.value", value)
    if effect and effect not in TAINT_EFFECTS:
        raise PlacementError(f"{where}.effect: {effect!r} must be one of {sorted(TAINT_EFFECTS)} (or empty: all)")
    seconds = raw.get("tolerationSeconds")
    if seconds is not None:
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise PlacementError(f"{where}.tolerationSeconds: expected an integer")
        if effect != "NoExecute":
            raise PlacementError(f"{where}.tolerationSeconds: only allowed with effect NoExecute")
    return dict(raw)


def tolerations(raw: object, where: str = "tolerations") -> tuple[dict[str, Any], ...]:
    """A list of tolerations."""
    if not isinstance(raw, list):
        raise PlacementError(f"{where}: expected a list of tolerations")
    return tuple(toleration(t, f"{where}[{i}]") for i, t in enumerate(raw))


def _node_selector_terms(raw: object, where: str) -> None:
    if not isinstance(raw, list):
        raise PlacementError(f"{where}: expected a list")
    for i, term in enumerate(raw):
        if not isinstance(term, Mapping) or not set(term) <= {"matchExpressions", "matchFields"}:
            raise PlacementError(f"{where}[{i}]: expected an object with matchExpressions and/or matchFields")
        for kind in ("matchExpressions", "matchFields"):
            exprs = term.get(kind, [])
            if not isinstance(exprs, list):
                raise PlacementError(f"{where}[{i}].{kind}: expected a list")
            for j, e in enumerate(exprs):
                at = f"{where}[{i}].{kind}[{j}]"
                if not isinstance(e, Mapping) or not isinstance(e.get("key"), str) or not e["key"]:
                    raise PlacementError(f"{at}: expected an object with a key")
                if e.get("operator") not in SELECTOR_OPERATORS:
                    raise PlacementError(f"{at}.operator: {e.get('operator')!r} must be one of "
                                         f"{sorted(SELECTOR_OPERATORS)}")
                values = e.get("values", [])
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise PlacementError(f"{at}.values: expected a list of strings")
                if e["operator"] in ("Exists", "DoesNotExist") and values:
                    raise PlacementError(f"{at}.values: must be empty with operator {e['operator']}")
                if e["operator"] in ("In", "NotIn") and not values:
                    raise PlacementError(f"{at}.values: must not be empty with operator {e['operator']}")


def affinity(raw: object, where: str = "affinity") -> dict[str, Any]:
    """An affinity object. Node affinity's selector terms are checked in depth (they are what a
    node pool needs); pod (anti-)affinity only in shape, the API server judges the rest."""
    if not isinstance(raw, Mapping):
        raise PlacementError(f"{where}: expected an object")
    unknown = set(raw) - AFFINITY_KINDS
    if unknown:
        raise PlacementError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(AFFINITY_KINDS)}")
    for kind in AFFINITY_KINDS & set(raw):
        if not isinstance(raw[kind], Mapping):
            raise PlacementError(f"{where}.{kind}: expected an object")
    node = raw.get("nodeAffinity") or {}
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        at = f"{where}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        if not isinstance(required, Mapping) or not required.get("nodeSelectorTerms"):
            raise PlacementError(f"{at}: expected an object with a non-empty nodeSelectorTerms list")
        _node_selector_terms(required["nodeSelectorTerms"], f"{at}.nodeSelectorTerms")
    preferred = node.get("preferredDuringSchedulingIgnoredDuringExecution")
    if preferred is not None:
        at = f"{where}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
        if not isinstance(preferred, list):
            raise PlacementError(f"{at}: expected a list")
        for i, p in enumerate(preferred):
            weight = p.get("weight") if isinstance(p, Mapping) else None
            if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
                raise PlacementError(f"{at}[{i}].weight: expected an integer from 1 to 100")
            _node_selector_terms([p.get("preference", {})], f"{at}[{i}].preference")
    return dict(raw)
