"""bench/out/bench.json: one JSON object that every benchmark merges its own keys into."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Mapping


def merge_results(path: pathlib.Path, updates: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `updates` into the JSON object at `path` (other keys kept), written atomically."""
    current: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
            current = loaded if isinstance(loaded, dict) else {}
        except json.JSONDecodeError:
            current = {}
    current.update(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return current
