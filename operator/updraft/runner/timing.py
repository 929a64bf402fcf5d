"""Wall-clock marks of a task pod's phases, printed as one log line at the end of the attempt:

    updraft-runner-timing {"process_start": 1764668000.12, "main": ..., "execute": ..., "executed": ..., "exit": ...}

(Unix seconds.) `process_start` is when the kernel started this process (/proc, 10 ms ticks), so
`main - process_start` is the interpreter's own start. bench/task_start.py reads this line from the
pods' logs; nothing else depends on it.
"""

from __future__ import annotations

import json
import os
import time

PREFIX = "updraft-runner-timing"
_marks: dict[str, float] = {}


def process_start() -> float | None:
    """When this process started, in Unix seconds (Linux; None elsewhere)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime, after `comm`
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


def mark(name: str) -> None:
    _marks.setdefault(name, time.time())


def reached(name: str) -> bool:
    """Whether mark `name` was made (the log shipper waits for "execute")."""
    return name in _marks


def line() -> str:
    doc: dict[str, float] = {}
    start = process_start()
    if start is not None:
        doc["process_start"] = round(start, 3)
    doc.update({k: round(v, 3) for k, v in _marks.items()})
    doc["exit"] = round(time.time(), 3)
    return f"{PREFIX} {json.dumps(doc)}"


def parse(text: str) -> dict[str, float] | None:
    """The marks of the last timing line in `text` (a pod's log), or None."""
    for raw in reversed(text.splitlines()):
        at = raw.find(PREFIX + " ")
        if at >= 0:
            try:
                doc = json.loads(raw[at + len(PREFIX) + 1:])
            except ValueError:
                return None
            return {k: float(v) for k, v in doc.items()} if isinstance(doc, dict) else None
    return None
