"""The run engine (pure): reconcile(run, graph, pods, now, settings) -> Decision(status, actions).

Handlers build a RunView (with RunStatus.from_dict of the CR status) and ObservedPods (with
parse_outcome of the container's termination message), call `reconcile`, apply the actions in
order, write `decision.status.to_dict(...)` once, and call again at `decision.requeue_at`.
"""

from updraft.engine.model import (EngineSettings, ObservedPod, Outcome, RunState, RunStatus, RunView, TaskInstance,
                                  TaskState, log_stream, task_instance_id)
from updraft.engine.outcome import PodOutcome, classify, classify_pod, parse_outcome
from updraft.engine.reconcile import WORKFLOW_FAILED, Action, CreatePod, Decision, DeletePod, Event, reconcile
from updraft.engine.retry import retry_delay

__all__ = ["Action", "CreatePod", "Decision", "DeletePod", "EngineSettings", "Event", "ObservedPod", "Outcome",
           "PodOutcome", "RunState", "RunStatus", "RunView", "TaskInstance", "TaskState", "WORKFLOW_FAILED",
           "classify", "classify_pod", "log_stream", "parse_outcome", "reconcile", "retry_delay",
           "task_instance_id"]
