"""Modules a task's import chain names but a task never uses, loaded only if something uses them.

On Airflow 3.0.x the standard provider's operators (EmptyOperator) derive from the core's
`airflow.models.baseoperator`, whose imports reach `airflow.utils.db_manager`, which imports the
API server's FastAPI application (`airflow.api_fastapi.app`: fastapi, cadwyn, aiohttp, ~1 s here)
for one function, `create_auth_manager`, that only the database's migration commands call; and
`airflow.sdk.definitions.dag` imports `airflow.utils.decorators` (libcst) for the @dag decorator.

`defer()` puts a stand-in module in `sys.modules` before Airflow is imported. Any attribute of the
stand-in (a name imported from it, or used later) loads the real module and answers from it, so
nothing changes for code that does use it; code that only imports it pays nothing.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# module -> the names imported from it with `from module import name` on the task's path: each
# becomes a function that loads the real module when called.
DEFERRED: dict[str, tuple[str, ...]] = {
    "airflow.api_fastapi.app": ("create_auth_manager",),
    # imported by airflow.sdk.definitions.dag (@dag) and airflow.sdk.bases.decorator (@task); the
    # module imports libcst (~0.2 s) to strip @task decorators from source, which a task pod never does
    "airflow.utils.decorators": ("fixup_decorator_warning_stack", "remove_task_decorator"),
    # imported by every operator's __init__ (task/priority_strategy.py) for a lookup that only a
    # custom weight_rule class needs; the module pulls the scheduler's DAG model and, through asset
    # evaluation, the standard provider's PythonOperator (~0.5 s)
    "airflow.serialization.serialized_objects": ("_get_registered_priority_weight_strategy",),
}


class DeferredModule(types.ModuleType):
    """A stand-in that loads the real module on first use of any public attribute."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probes __path__, __spec__...: not a use
            raise AttributeError(name)
        return getattr(load(self.__name__), name)


def load(name: str) -> types.ModuleType:
    """The real module `name` (replacing its stand-in)."""
    current = sys.modules.get(name)
    if isinstance(current, DeferredModule):
        del sys.modules[name]
    return importlib.import_module(name)


def _forwarder(module: str, name: str) -> Any:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(load(module), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Loads {module} and calls its {name}."
    return forward


def defer() -> list[str]:
    """Install the stand-ins for modules not loaded yet; returns their names."""
    done = []
    for module, names in DEFERRED.items():
        if module in sys.modules:
            continue
        stand_in = DeferredModule(module, f"deferred: loaded on first use ({__name__})")
        for name in names:
            setattr(stand_in, name, _forwarder(module, name))
        sys.modules[module] = stand_in
        done.append(module)
    return done
