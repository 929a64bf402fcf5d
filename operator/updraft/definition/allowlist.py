"""The operators a workflow may use (see supported_operators.txt), by full path or short name."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def supported() -> dict[str, str]:
    """Class name -> full import path."""
    text = resources.files("updraft.definition").joinpath("supported_operators.txt").read_text()
    paths = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {p.rsplit(".", 1)[1]: p for p in paths}


def resolve(operator: str) -> str | None:
    """The full path for `operator` (full path or bare class name), or None if not allowed."""
    table = supported()
    if "." in operator:
        name = operator.rsplit(".", 1)[1]
        return operator if table.get(name) == operator else None
    return table.get(operator)


def is_sensor(path: str) -> bool:
    return path.rsplit(".", 1)[1].endswith("Sensor")
