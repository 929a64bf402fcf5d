"""The MWAA Serverless service model that ships with botocore is the API's contract: operation
names, input and output shapes, and every length, range, pattern and enum a request must meet.

`check_input` walks a decoded request against its input shape and returns every problem at once,
each naming the member path (`DefinitionS3Location.Bucket`, `Tags["k"]`). Patterns are applied to
the whole value (the model's patterns describe whole identifiers). Members the model does not know
are ignored, as AWS services do for forward compatibility."""

from __future__ import annotations

import functools
import re
from typing import Any, Mapping

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from updraft.api.errors import FieldProblem

SERVICE_NAME = "mwaa-serverless"
API_VERSION = "2024-07-26"


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE_NAME, api_version=API_VERSION)


@functools.cache
def raw_shapes() -> Mapping[str, Any]:
    """The model's "shapes" object as JSON (what the audit trail's converters walk)."""
    loader = botocore.session.get_session().get_component("data_loader")
    return loader.load_service_model(SERVICE_NAME, "service-2", api_version=API_VERSION)["shapes"]


def operation_names() -> list[str]:
    return list(service_model().operation_names)


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """The model's pattern, matched against the whole value (the API stores names it checks in
    Kubernetes objects, so a partial match is not enough); `.` takes line breaks too, so a
    multi-line Description or tag value passes `.+` as it does on AWS."""
    return re.compile(pattern, re.DOTALL)


def _describe(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def check_input(operation_name: str, params: Mapping[str, Any]) -> list[FieldProblem]:
    shape = operation(operation_name).input_shape
    if shape is None:
        return []
    problems: list[FieldProblem] = []
    _check(shape, params, "", problems)
    return problems


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _check(shape: Shape, value: Any, path: str, out: list[FieldProblem]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    name = path or "request"
    if shape.metadata.get("document"):
        return  # any JSON value
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(FieldProblem(name, f"must be an object, got {_describe(value)}"))
            return
        members = shape.members
        for required in shape.required_members:
            if value.get(required) is None:
                out.append(FieldProblem(_join(path, required), "is required"))
        present = [m for m in members if value.get(m) is not None]
        if meta.get("union") and len(present) != 1:
            out.append(FieldProblem(name, f"must set exactly one of {', '.join(members)}"))
        for m in present:
            _check(members[m], value[m], _join(path, m), out)
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append(FieldProblem(name, f"must be a list, got {_describe(value)}"))
            return
        _size(meta, len(value), name, "items", out)
        for i, item in enumerate(value):
            _check(shape.member, item, f"{name}[{i}]", out)
        return
    if kind == "map":
        if not isinstance(value, dict):
            out.append(FieldProblem(name, f"must be an object, got {_describe(value)}"))
            return
        _size(meta, len(value), name, "entries", out)
        for k, v in value.items():
            _check(shape.key, k, f"{name} key {k!r}", out)
            _check(shape.value, v, f'{name}["{k}"]', out)
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append(FieldProblem(name, f"must be a string, got {_describe(value)}"))
            return
        _size(meta, len(value), name, "characters", out)
        if "enum" in meta and value not in meta["enum"]:
            out.append(FieldProblem(name, f"must be one of {', '.join(meta['enum'])}, got {value!r}"))
        pattern = meta.get("pattern")
        if pattern and value and _pattern(pattern).fullmatch(value) is None:
            out.append(FieldProblem(name, f"must match the pattern {pattern}"))
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(FieldProblem(name, f"must be a whole number, got {_describe(value)}"))
            return
        if "min" in meta and value < meta["min"]:
            out.append(FieldProblem(name, f"must be at least {meta['min']}, got {value}"))
        if "max" in meta and value > meta["max"]:
            out.append(FieldProblem(name, f"must be at most {meta['max']}, got {value}"))
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append(FieldProblem(name, f"must be true or false, got {_describe(value)}"))
        return
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            out.append(FieldProblem(name, f"must be a timestamp, got {_describe(value)}"))
        return


def _size(meta: Mapping[str, Any], n: int, name: str, unit: str, out: list[FieldProblem]) -> None:
    if "min" in meta and n < meta["min"]:
        out.append(FieldProblem(name, f"must have at least {meta['min']} {unit}, got {n}"))
    if "max" in meta and n > meta["max"]:
        out.append(FieldProblem(name, f"must have at most {meta['max']} {unit}, got {n}"))
