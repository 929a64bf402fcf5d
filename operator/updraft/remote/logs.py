"""What `updraft logs` decides and prints (pure): which workflow a run id belongs to, the task
instance ids it asks for, and the lines it writes."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from updraft.model import names


def run_prefix(workflow_name: str) -> str:
    """The start every run name of a workflow (its API name) has: `<workflow object>-`, folded as
    the operator folds it (names.manual_run_name)."""
    return names.manual_run_name(names.workflow_object_name(workflow_name), "")[:-len("-m-") - 12]


def workflows_of_run(run_id: str, workflows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The workflows (ListWorkflows summaries) whose run names `run_id` could be, longest name
    first (`etl-daily-m-...` is etl-daily's run before it is etl's)."""
    found = []
    for w in workflows:
        prefix = run_prefix(str(w.get("Name", "")))
        if prefix and run_id.startswith(prefix) and run_id[len(prefix):len(prefix) + 3] in ("-m-", "-s-"):
            found.append(w)
    return sorted(found, key=lambda w: -len(str(w.get("Name", ""))))


def task_instance_id(run_id: str, task_id: str) -> str:
    return names.task_instance_id(run_id, task_id)


def source_line(task_id: str, answer: Mapping[str, Any]) -> str:
    """Where the lines come from, always said (on stderr): `# load attempt 2: cloudwatch (...)`."""
    where = f" {answer.get('LogGroup')}{answer.get('LogStream')}" if answer.get("Source") == "cloudwatch" else ""
    return f"# {task_id} attempt {answer.get('Attempt')}: {answer.get('Source')}{where} ({answer.get('Reason')})"


def prefixed(task_id: str, lines: Sequence[str], many: bool) -> list[str]:
    """A run's logs interleave tasks: each line then starts with its task id."""
    return [f"{task_id} | {line}" for line in lines] if many else list(lines)
