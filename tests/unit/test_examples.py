"""Every example manifest holds a valid definition (the same check the operator makes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from updraft.definition import validate

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").rglob("workflow.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example_definition_is_valid(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    assert workflow["kind"] == "Workflow"
    result = validate(workflow["spec"]["definition"])
    assert result.ok, [str(e) for e in result.errors]
