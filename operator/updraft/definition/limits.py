"""The limits a definition is checked against (MWAA Serverless quotas; the chart can change them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_definition_bytes: int = 50 * 1024
    max_active_runs_limit: int = 20
    default_max_active_runs: int = 16
    max_retries: int = 3
    max_retry_delay_s: int = 300
    default_retry_delay_s: int = 300
    max_execution_timeout_s: int = 3600
    max_tasks: int = 500
