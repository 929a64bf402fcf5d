"""The suite's workflows (pure): their definitions, and what each run of them must end with.

Task ids choose what KWOK does with their pods (hack/cluster/kwok.sh): chaos_fail always fails,
chaos_flaky fails its first attempt only, chaos_slow runs KWOK_SLOW_MS (20 s), chaos_hang never
ends (the operator must enforce its execution_timeout), any other id succeeds after KWOK_TASK_MS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
GROUP, VERSION = "updraft.dev", "v1alpha1"


@dataclass(frozen=True)
class Expected:
    """A task's end: its state and the attempt that reached it (attempts are the user's retries)."""

    state: str
    attempt: int


@dataclass(frozen=True)
class Shape:
    name: str
    run_state: str
    tasks: Mapping[str, Expected]
    definition: str  # the tasks block of the dag-factory YAML


def _task(task_id: str, deps: tuple[str, ...] = (), **args: Any) -> str:
    extra = "".join(f", {k}: {v}" for k, v in args.items())
    dep = f", dependencies: [{', '.join(deps)}]" if deps else ""
    return f"    {task_id}: {{operator: {EMPTY}{dep}{extra}}}\n"


SHAPES: tuple[Shape, ...] = (
    Shape("chain", "SUCCESS", {"ok_a": Expected("SUCCESS", 1), "ok_b": Expected("SUCCESS", 1),
                               "ok_c": Expected("SUCCESS", 1)},
          _task("ok_a", retries=2) + _task("ok_b", ("ok_a",), retries=2) + _task("ok_c", ("ok_b",), retries=2)),
    Shape("flaky", "SUCCESS", {"chaos_flaky": Expected("SUCCESS", 2), "ok_after": Expected("SUCCESS", 1)},
          _task("chaos_flaky", retries=2, retry_delay=0) + _task("ok_after", ("chaos_flaky",), retries=2)),
    Shape("fail", "FAILED", {"chaos_fail": Expected("FAILED", 2), "ok_never": Expected("UPSTREAM_FAILED", 0)},
          _task("chaos_fail", retries=1, retry_delay=0) + _task("ok_never", ("chaos_fail",))),
    Shape("slow", "SUCCESS", {"chaos_slow": Expected("SUCCESS", 1)}, _task("chaos_slow", retries=2)),
    Shape("hang", "FAILED", {"chaos_hang": Expected("TIMEOUT", 1)}, _task("chaos_hang", execution_timeout=5)),
)
BY_NAME = {s.name: s for s in SHAPES}
WEIGHTS = {"chain": 4, "flaky": 2, "fail": 2, "slow": 2, "hang": 1}  # how often each shape is run


def workflow_body(shape: Shape) -> dict[str, Any]:
    definition = f"{shape.name}:\n  schedule: None\n  max_active_runs: 20\n  tasks:\n{shape.definition}"
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", "metadata": {"name": shape.name},
            "spec": {"roleArn": f"arn:aws:iam::123456789012:role/chaos-{shape.name}", "triggerMode": "manual_only",
                     "runHistoryLimit": 1000, "definition": definition}}


def run_body(name: str, shape: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowRun",
            "metadata": {"name": name, "labels": {"chaos.updraft.dev/shape": shape}}, "spec": {"workflowName": shape}}


def run_names(count: int, order: list[str]) -> list[tuple[str, str]]:
    """(run name, shape) for `count` runs, shapes taken round-robin from `order` (the driver
    shuffles it with the seed)."""
    return [(f"{order[i % len(order)]}-{i:04d}", order[i % len(order)]) for i in range(count)]


def shape_order(weights: Mapping[str, int] = WEIGHTS) -> list[str]:
    return [name for name, w in weights.items() for _ in range(w)]
