"""Every example manifest holds a valid definition (the same check the operator makes): inline,
or the file a kustomization turns into the ConfigMap the Workflow names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from updraft.definition import validate

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").rglob("workflow.yaml"))


def _definition(path: Path) -> str:
    spec = yaml.safe_load(path.read_text())["spec"]
    if "definition" in spec:
        return spec["definition"]
    ref = spec["definitionConfigMapRef"]
    kustomization = yaml.safe_load((path.parent / "kustomization.yaml").read_text())
    generator = next(g for g in kustomization["configMapGenerator"] if g["name"] == ref["name"])
    assert generator.get("options", {}).get("disableNameSuffixHash"), "the Workflow names the ConfigMap exactly"
    file = next(f for f in generator["files"] if Path(f).name == ref["key"])
    return (path.parent / file).read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example_definition_is_valid(path: Path) -> None:
    assert yaml.safe_load(path.read_text())["kind"] == "Workflow"
    result = validate(_definition(path))
    assert result.ok, [str(e) for e in result.errors]
