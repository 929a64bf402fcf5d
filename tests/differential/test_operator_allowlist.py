"""Every operator on the allowlist exists at its path in the installed amazon provider (9.30.0)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from updraft.definition.allowlist import supported

pytestmark = pytest.mark.airflow

PATHS = sorted(supported().values())


@pytest.mark.parametrize("path", PATHS, ids=[p.rsplit(".", 1)[1] for p in PATHS])
def test_operator_path_exists(path: str) -> None:
    module, name = path.rsplit(".", 1)
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"module {module} not installed"
    try:
        assert hasattr(importlib.import_module(module), name)
    except ImportError:
        # modules needing another provider (EKS needs cncf-kubernetes) still define the class
        assert f"class {name}(" in Path(spec.origin).read_text()


def test_the_guide_list_is_covered() -> None:
    assert len(PATHS) == 182
    assert "airflow.providers.standard.operators.empty.EmptyOperator" in PATHS


@pytest.mark.parametrize("path", PATHS, ids=[p.rsplit(".", 1)[1] for p in PATHS])
def test_sensor_by_name_is_a_sensor_by_class(path: str) -> None:
    """The pure core cannot import Airflow, so it tells sensors by their class name; check the name
    against the real class hierarchy (poke/reschedule mode, poke_interval and timeout depend on it)."""
    from airflow.sdk.bases.sensor import BaseSensorOperator

    from updraft.definition.allowlist import is_sensor

    module, name = path.rsplit(".", 1)
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError:
        pytest.skip(f"{module} needs another provider")
    assert is_sensor(path) == issubclass(cls, BaseSensorOperator)
