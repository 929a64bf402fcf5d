"""The run engine (pure): reconcile(run, graph, pods, now, settings) -> Decision(status, actions).

Handlers build a RunView (with RunStatus.from_dict of the CR status) and ObservedPods (with
`observe` of each pod object), call `reconcile`, write `decision.status.to_dict(...)`, then
apply the actions in order (the record before the act: handlers/runs.py), and call again at
`decision.requeue_at`. States live in
`updraft.model.states`.
"""

from updraft.engine.model import EngineSettings, ObservedPod, Outcome, RunStatus, RunView, TaskInstance
from updraft.engine.observe import observe
from updraft.engine.outcome import PodOutcome, classify_pod, parse_outcome
from updraft.engine.reconcile import WORKFLOW_FAILED, Action, CreatePod, Decision, DeletePod, DeleteToken, Event, reconcile
from updraft.engine.retry import retry_delay

__all__ = ["Action", "CreatePod", "Decision", "DeletePod", "DeleteToken", "EngineSettings", "Event", "ObservedPod", "Outcome",
           "PodOutcome", "RunStatus", "RunView", "TaskInstance", "WORKFLOW_FAILED", "classify_pod", "observe",
           "parse_outcome", "reconcile", "retry_delay"]
