"""The run engine (pure): reconcile(run, graph, pods, now) -> Decision(status, actions)."""

from updraft.engine.model import (EngineSettings, ObservedPod, Outcome, RunState, RunStatus, RunView, TaskInstance,
                                  TaskState)
from updraft.engine.outcome import classify, parse_outcome
from updraft.engine.reconcile import CreatePod, Decision, DeletePod, Event, reconcile, retry_delay

__all__ = ["CreatePod", "Decision", "DeletePod", "EngineSettings", "Event", "ObservedPod", "Outcome", "RunState",
           "RunStatus", "RunView", "TaskInstance", "TaskState", "classify", "parse_outcome", "reconcile",
           "retry_delay"]
