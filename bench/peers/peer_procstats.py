"""CPU and resident memory of the control-plane processes, read from /proc (Linux; the local
cluster's components and the operator's container are all processes of this machine).

`parse_stat` and `parse_rss_kb` are pure; `Sampler` reads /proc every `period` seconds in a thread.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text: str, clk_tck: int = CLK_TCK) -> float:
    """User + system CPU seconds from the text of /proc/<pid>/stat (the command may hold spaces
    and parentheses: fields are counted after the last ')')."""
    fields = text[text.rindex(")") + 2:].split()
    # after the command: state(3) ppid(4) ... utime(14) stime(15), numbered from pid = 1
    return (int(fields[11]) + int(fields[12])) / clk_tck


def parse_rss_kb(status_text: str) -> int:
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def find_pids(*needles: str, proc: Path = Path("/proc")) -> list[int]:
    """Processes whose command line contains every needle."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(n in cmdline for n in needles):
            found.append(int(entry.name))
    return found


def read(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS kB) of a process, None when it is gone."""
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text()), parse_rss_kb(Path(f"/proc/{pid}/status").read_text())
    except (OSError, ValueError):
        return None


class Sampler:
    """Samples named groups of processes (CPU seconds summed, RSS summed) until stopped."""

    def __init__(self, groups: dict[str, list[int]], period: float = 1.0) -> None:
        self.groups = groups
        self.period = period
        self.samples: dict[str, list[tuple[float, float, int]]] = {g: [] for g in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "Sampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def _sample(self) -> None:
        now = time.time()
        for group, pids in self.groups.items():
            reads = [r for r in (read(p) for p in pids) if r is not None]
            if reads:
                self.samples[group].append((now, sum(r[0] for r in reads), sum(r[1] for r in reads)))

    def summary(self) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        for group, samples in self.samples.items():
            cpu = round(samples[-1][1] - samples[0][1], 2) if len(samples) >= 2 else None
            rss = round(max(s[2] for s in samples) / 1024, 1) if samples else None
            out[group] = {"cpu_s": cpu, "rss_peak_mb": rss}
        return out
