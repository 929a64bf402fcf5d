"""A little fuzzing: mangled fixtures and random YAML shapes give errors or graphs, never exceptions.

Seeded, so a failure reproduces; a few hundred cases in well under a second."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from updraft.definition import ValidationResult, content_version, from_dict, to_dict, validate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "definitions"
EXAMPLES = Path(__file__).parents[3] / "examples"
SOURCES = (sorted((FIXTURES / "valid").glob("*.yaml")) + sorted((FIXTURES / "converter").glob("*.yaml"))
           + sorted(EXAMPLES.glob("*/dag/*.yaml")))
ATOMS = ["", "-", ":", "[", "]", "{", "}", "&a", "*a", "!!python/object:os.system", "!!binary", "__type__",
         "datetime.timedelta", "\t", "'", '"', "?", "|", ">", "#", "%YAML 1.1", "---", "...", "\x00", "\u2028",
         "9" * 40, "-1", "1e999", ".nan", "null", "~", "yes", "2025-13-45", "$HOME"]


def _check(result: ValidationResult) -> None:
    assert result.ok == (result.graph is not None and not result.errors)
    for issue in (*result.errors, *result.warnings):
        assert issue.path and issue.rule and issue.message
    if result.graph is not None:
        assert from_dict(json.loads(json.dumps(to_dict(result.graph)))) == result.graph
        assert len(content_version(result.graph)) == 32


def _mangle(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(5)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])  # often a duplicate key
        elif op == 2:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + rng.choice(ATOMS) + lines[i][j:]
        elif op == 3:
            lines[i] = " " * rng.randint(0, 8) + lines[i].lstrip()
        else:
            head, _, _ = lines[i].partition(":")
            lines[i] = f"{head}: {rng.choice(ATOMS)!r}" if head else lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(3))
def test_mangled_fixtures_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    for path in SOURCES:
        text = path.read_text()
        for _ in range(5):
            _check(validate(_mangle(text, rng)))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "float", "bool", "none", "list", "dict", "typed"] if depth < 4 else ["str", "int"]
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(["t", "a", "d", "S3ListOperator", "EmptyOperator", "@daily", "0 0 * * *", "poke",
                           "dependencies", "all_done", "", "None"])
    if kind == "int":
        return rng.choice([0, 1, 3, 4, -1, 300, 3601, 2**70])
    if kind == "float":
        return rng.choice([0.5, 1e300, float("inf")])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "none":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "typed":
        return {"__type__": rng.choice(["datetime.timedelta", "datetime.datetime", "os.system"]),
                rng.choice(["seconds", "year", "days", "__args__", "x"]): _random_value(rng, depth + 1)}
    keys = ["tasks", "operator", "dependencies", "depends_on", "retries", "retry_delay", "execution_timeout",
            "schedule", "start_date", "end_date", "task_groups", "task_group_name", "default_args", "params",
            "mode", "timeout", "poke_interval", "trigger_rule", "dag_id", "timezone", "max_active_runs", "t"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("seed", range(4))
def test_random_shapes_never_raise(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(40):
        extra = _random_value(rng)
        dag = {"tasks": _random_value(rng), **(extra if isinstance(extra, dict) else {})}
        doc = {"d": dag} if rng.random() < 0.7 else _random_value(rng)
        _check(validate(yaml.safe_dump(doc)))
