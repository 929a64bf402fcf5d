"""Parse definition text safely: YAML's safe subset only, duplicate keys refused, aliases bounded.

dag-factory reads YAML with `FullLoader` after expanding `$VARS` from the environment; Updraft
never does either. Everything after this module works on plain dicts, lists and scalars.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIASES = 100  # a handful of anchors is normal; thousands is a "billion laughs" bomb
MAX_DEPTH = 64  # a DAG is a few levels deep; a fixed bound keeps every later walk off the recursion limit


class LoadError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and counts alias expansions."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise LoadError(f"more than {MAX_ALIASES} YAML aliases", mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise LoadError(f"nested more than {MAX_DEPTH} levels deep", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base`: keys written next to it override the merged ones, as YAML says
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise LoadError("a mapping key must be a scalar", key_node.start_mark.line + 1) from None
            if key in seen:
                raise LoadError(f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark.line + 1)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """The one YAML document in `text`, or LoadError naming the line."""
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))  # noqa: S506 - a SafeLoader subclass
    except LoadError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        raise LoadError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise LoadError(f"invalid YAML: {e}") from None
    except RecursionError:
        raise LoadError("invalid YAML: nested too deeply") from None
    docs = [d for d in docs if d is not None]
    if len(docs) != 1:
        raise LoadError(f"expected exactly one YAML document, found {len(docs)}")
    return docs[0]
