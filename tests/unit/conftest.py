"""Guard rails of the unit tier: every test has a time limit (unless it sets its own), so a hang
fails fast instead of stalling CI. Warnings raised from Updraft's own code are errors (pyproject's
filterwarnings)."""

from __future__ import annotations

import pytest

UNIT_TIMEOUT_S = 60  # generous for 2 shared cores and real Airflow imports; a hang is minutes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S))
