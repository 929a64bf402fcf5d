"""The layers of `.importlinter` hold: shells over adapters over the pure core over the model,
the operator's handlers, the API and the runner independent of each other (import-linter, as kopf
uses it). A broken contract names the import chain that breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    return subprocess.run([exe, str(config), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_every_contract_is_kept() -> None:
    done = _lint(ROOT / ".importlinter")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    # the same checker, told that the model sits above the handlers: it must object
    text = (ROOT / ".importlinter").read_text().replace("    updraft.cli\n", "    updraft.model\n    updraft.cli\n", 1)
    text = text.replace("    updraft.schedule\n    updraft.model\n", "    updraft.schedule\n", 1)
    bad = tmp_path / "contracts.ini"
    bad.write_text(text)
    done = _lint(bad)
    assert done.returncode != 0 and "BROKEN" in done.stdout.upper()
