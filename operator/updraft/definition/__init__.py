"""Workflow definitions: parse and validate dag-factory YAML into a typed task graph (pure)."""

from updraft.definition.limits import Limits
from updraft.definition.model import TRIGGER_RULES, Issue, Task, TaskGraph, ValidationResult
from updraft.definition.serialize import content_version, from_dict, to_dict
from updraft.definition.validate import validate
from updraft.definition.values import materialize

__all__ = ["Issue", "Limits", "TRIGGER_RULES", "Task", "TaskGraph", "ValidationResult", "content_version",
           "from_dict", "materialize", "to_dict", "validate"]
