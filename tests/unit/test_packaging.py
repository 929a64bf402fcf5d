"""What the project pins: pyproject's runtime dependencies are exact, and the operator image's
constraints (its whole resolution) agree with them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

TOP = Path(__file__).parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(3)
    return out


def test_runtime_dependencies_are_pinned_and_the_image_constraints_agree() -> None:
    deps = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = _pins(deps)
    assert len(pinned) == len(deps), f"unpinned: {[d for d in deps if '==' not in d]}"
    lines = [ln for ln in (TOP / "operator/constraints.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    constraints = _pins(lines)
    assert len(constraints) == len(lines), "every constraint is name==version"
    assert {k: constraints.get(k) for k in pinned} == pinned
    assert "-c operator/constraints.txt" in (TOP / "Dockerfile").read_text()


def test_the_runner_image_constraints_pin_what_it_installs() -> None:
    wanted = _pins((TOP / "runner-image/requirements.txt").read_text().splitlines())
    constraints = _pins((TOP / "runner-image/constraints.txt").read_text().splitlines())
    assert wanted and {k: constraints.get(k) for k in wanted} == wanted
