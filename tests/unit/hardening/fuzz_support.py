"""Shared pieces of the fuzz tier: settings (seeded; the number of examples from the
environment) and request generators built from the botocore `mwaa-serverless` model's shapes."""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.model import Shape
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from updraft.api import model

EXAMPLES = int(os.environ.get("UPDRAFT_FUZZ_EXAMPLES", "60"))
SEED = int(os.environ.get("UPDRAFT_FUZZ_SEED", "21"))
# no shrinking: a failing request is printed as found (every example prints what it sent), and
# shrinking HTTP round trips can take minutes
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False, print_blob=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])

# any JSON value, nested a little
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)


def shape_values(shape: Shape, known: dict[str, list[str]], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values meeting `shape` (mostly: patterns are followed, lengths kept small), with the
    `known` values (real ARNs, run ids) mixed in for members of those names."""
    kind, meta = shape.type_name, shape.metadata
    if meta.get("document") or depth > 6:
        return JSON
    if kind == "structure":
        required = {m: _member(m, s, known, depth) for m, s in shape.members.items() if m in shape.required_members}
        optional = {m: _member(m, s, known, depth) for m, s in shape.members.items() if m not in shape.required_members}
        if meta.get("union"):
            return st.sampled_from(sorted(shape.members)).flatmap(
                lambda m: st.fixed_dictionaries({m: _member(m, shape.members[m], known, depth)}))
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(shape_values(shape.member, known, depth + 1), min_size=meta.get("min", 0),
                        max_size=max(meta.get("min", 0), min(meta.get("max", 3), 3)))
    if kind == "map":
        return st.dictionaries(shape_values(shape.key, known, depth + 1), shape_values(shape.value, known, depth + 1),
                               max_size=3)
    if kind == "string":
        if "enum" in meta:
            return st.sampled_from(meta["enum"])
        low, high = meta.get("min", 0), min(meta.get("max", 64), 64)
        if meta.get("pattern") and meta["pattern"] not in (".*", ".+"):
            return st.from_regex(meta["pattern"], fullmatch=True).filter(lambda v: low <= len(v) <= meta.get("max", 10**6))
        return st.text(min_size=max(low, 1 if meta.get("pattern") == ".+" else 0), max_size=max(low, high))
    if kind in ("integer", "long"):
        return st.integers(meta.get("min", -(2**31)), meta.get("max", 2**31))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(0, 2**31)
    return JSON


def _member(name: str, shape: Shape, known: dict[str, list[str]], depth: int) -> st.SearchStrategy[Any]:
    generated = shape_values(shape, known, depth + 1)
    return st.one_of(st.sampled_from(known[name]), generated) if known.get(name) else generated


def valid_params(operation: str, known: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    shape = model.operation(operation).input_shape
    return shape_values(shape, known) if shape is not None else st.just({})


@st.composite
def mutated(draw: st.DrawFn, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with one member changed: another type, a huge or odd string, deep nesting, removed."""
    if not params:
        return params
    out = dict(params)
    key = draw(st.sampled_from(sorted(out)))
    how = draw(st.sampled_from(["type", "huge", "deep", "remove", "unicode", "number"]))
    if how == "type":
        out[key] = draw(JSON)
    elif how == "huge":
        out[key] = "A" * draw(st.sampled_from([256, 2049, 70_000, 600_000]))
    elif how == "deep":
        depth = draw(st.sampled_from([31, 33, 200, 5000]))
        out[key] = json.loads("[" * depth + "]" * depth) if depth < 900 else {"__deep__": depth}
    elif how == "remove":
        del out[key]
    elif how == "unicode":
        out[key] = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40)) + "\u202e\x00"
    else:
        out[key] = draw(st.sampled_from([-1, 0, 2**63, -(2**63) - 1, 1.5, 1e308]))
    return out


def encode(params: dict[str, Any]) -> bytes:
    """JSON text of params; a {"__deep__": n} placeholder becomes n nested arrays in the text
    (Python's own encoder would recurse too deeply to write them)."""
    text = json.dumps(params)
    for marker in {json.dumps({"__deep__": v["__deep__"]}) for v in params.values()
                   if isinstance(v, dict) and set(v) == {"__deep__"}}:
        depth = json.loads(marker)["__deep__"]
        text = text.replace(marker, "[" * depth + "]" * depth)
    return text.encode()


RAW_BODIES = st.sampled_from([
    b"", b"null", b"[]", b"1", b'"x"', b"{", b"\xff\xfe{\x00}\x00", b"\xef\xbb\xbf{}", b'{"a":1,"a":2}',
    b'{"MaxResults": NaN}', b'{"MaxResults": Infinity}', b'{"MaxResults": 1e999}', b'{"x": "\\ud800"}',
    b'{"MaxResults":' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000, b"{}" * 10,
    '{"Name": "é"}'.encode("utf-16"), '{"Name": "é"}'.encode("latin-1"),
]) | st.binary(max_size=200)
