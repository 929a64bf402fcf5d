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


DIRS = sorted(p for p in (Path(__file__).parents[2] / "examples").iterdir() if (p / "workflow.yaml").exists())


@pytest.mark.parametrize("folder", DIRS, ids=[p.name for p in DIRS])
def test_example_folders_apply_as_they_are(folder: Path) -> None:
    """`kubectl apply -f examples/<x>/` (or `-k` where a kustomization is): every YAML file at the
    top of a folder is a Kubernetes object; bare definitions live below it (definition/, or dag/
    for what the MWAA converter wrote)."""
    if (folder / "kustomization.yaml").exists():
        return
    for f in folder.glob("*.yaml"):
        for doc in yaml.safe_load_all(f.read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), f"{f} is not a Kubernetes object"


def test_hello_workflow_holds_the_definition_file() -> None:
    folder = Path(__file__).parents[2] / "examples" / "01-hello"
    inline = yaml.safe_load((folder / "workflow.yaml").read_text())["spec"]["definition"]
    assert inline == (folder / "definition" / "hello.yaml").read_text()


def test_readme_workflow_examples_are_valid() -> None:
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S)]
    workflows = [b for b in blocks if isinstance(b, dict) and b.get("kind") == "Workflow"]
    assert workflows, "the README shows a Workflow"
    for w in workflows:
        result = validate(w["spec"]["definition"])
        assert result.ok, [str(e) for e in result.errors]
