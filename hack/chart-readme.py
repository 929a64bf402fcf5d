#!/usr/bin/env python3
"""Generate charts/updraft/README.md's values table from the `# --` comments in values.yaml.

    python3 hack/chart-readme.py            # rewrite the README
    python3 hack/chart-readme.py --check    # exit 1 if the README is out of date (CI)

A value is documented by a comment block starting with `# -- ` right above its key (continued
by further `# ` lines). Keys without one are containers (maps of documented values)."""

from __future__ import annotations

import json
import pathlib
import re
import sys

import yaml

CHART = pathlib.Path(__file__).resolve().parent.parent / "charts" / "updraft"
BEGIN, END = "<!-- values:begin -->", "<!-- values:end -->"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):")


def documented(lines: list[str]) -> list[tuple[str, str]]:
    """(dotted key, description) in file order."""
    out: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []
    doc: list[str] | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# -- "):
            doc = [stripped[5:]]
            continue
        if doc is not None and stripped.startswith("# "):
            doc.append(stripped[2:])
            continue
        m = KEY.match(line)
        if m and not stripped.startswith("#") and not stripped.startswith("-"):
            indent = len(m["indent"])
            path = [(i, k) for i, k in path if i < indent] + [(indent, m["key"])]
            if doc is not None:
                out.append((".".join(k for _, k in path), " ".join(doc)))
        doc = None
    return out


def lookup(values: dict, dotted: str) -> object:
    node: object = values
    for part in dotted.split("."):
        node = node[part]  # type: ignore[index]
    return node


def table() -> str:
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    rows = ["| Key | Default | Description |", "|---|---|---|"]
    for key, doc in documented(text.splitlines()):
        default = json.dumps(lookup(values, key), separators=(", ", ": "))
        cell = doc.replace("|", "\\|")
        rows.append(f"| `{key}` | `{default}` | {cell} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    readme = CHART / "README.md"
    current = readme.read_text()
    if BEGIN not in current or END not in current:
        print(f"{readme}: the markers {BEGIN} and {END} are missing", file=sys.stderr)
        return 2
    head, rest = current.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    wanted = f"{head}{BEGIN}\n{table()}\n{END}{tail}"
    if "--check" in argv:
        if wanted != current:
            print(f"{readme} is out of date with values.yaml: run python3 hack/chart-readme.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
