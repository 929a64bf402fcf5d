"""The engine's trigger rules and retry delays against Airflow 3.0.6 itself.

TriggerRuleDep is driven with stand-in task instances (no database: DepContext.finished_tis is
given, and set_state records the verdict), over every rule and every combination of up to
three upstream states; next_retry_datetime is called on a stand-in task instance."""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace as NS

import pytest

from updraft.definition.model import TRIGGER_RULES, Task
from updraft.engine import retry_delay
from updraft.engine.triggers import RUN, SKIP, UPSTREAM_FAILED, WAIT, decide

pytestmark = pytest.mark.airflow

OURS_TO_AIRFLOW = {"SUCCESS": "success", "FAILED": "failed", "SKIPPED": "skipped",
                   "UPSTREAM_FAILED": "upstream_failed", "RUNNING": "running", "NONE": None}


def airflow_verdict(rule: str, upstream: tuple[str, ...]) -> str:
    from airflow.ti_deps.dep_context import DepContext
    from airflow.ti_deps.deps.trigger_rule_dep import TriggerRuleDep
    from airflow.utils.state import TaskInstanceState

    finished = {"success", "failed", "skipped", "upstream_failed"}
    ups = [NS(task_id=f"u{i}", is_setup=False, get_needs_expansion=lambda: False) for i in range(len(upstream))]
    tis = [NS(task_id=f"u{i}", state=TaskInstanceState(OURS_TO_AIRFLOW[s]), map_index=-1, task=ups[i])
           for i, s in enumerate(upstream) if OURS_TO_AIRFLOW[s] in finished]
    new: list[str] = []
    task = NS(upstream_task_ids={u.task_id for u in ups}, upstream_list=ups, trigger_rule=rule, is_teardown=False,
              get_upstreams_only_setups=lambda: [], get_closest_mapped_task_group=lambda: None, task_group=None)
    ti = NS(task=task, map_index=-1, get_dagrun=lambda session: None,
            set_state=lambda state, session: new.append(state) or True)
    statuses = list(TriggerRuleDep()._get_dep_statuses(ti, session=None,
                                                      dep_context=DepContext(flag_upstream_failed=True,
                                                                             finished_tis=tis)))
    if new:
        return {"skipped": SKIP, "upstream_failed": UPSTREAM_FAILED}[new[-1].value]
    return RUN if all(s.passed for s in statuses) else WAIT


COMBOS = [c for n in (1, 2, 3) for c in itertools.combinations_with_replacement(OURS_TO_AIRFLOW, n)]


@pytest.mark.parametrize("rule", TRIGGER_RULES)
def test_trigger_rules_match_airflow(rule: str) -> None:
    pytest.importorskip("airflow")
    logging.getLogger("airflow").setLevel(logging.WARNING)
    mismatches = [(up, decide(rule, up), airflow_verdict(rule, up)) for up in COMBOS
                  if decide(rule, up) != airflow_verdict(rule, up)]
    assert mismatches == []


@pytest.mark.parametrize(("delay", "backoff", "max_delay", "try_number"), [
    (30, False, None, 1), (10, True, None, 1), (10, True, None, 2), (10, True, None, 3), (300, True, 600, 4),
    (0, True, None, 1), (7, True, None, 9), (3600, True, None, 30),
])
def test_retry_delay_matches_airflow(delay: int, backoff: bool, max_delay: int | None, try_number: int) -> None:
    pytest.importorskip("airflow")
    from airflow.models.taskinstance import TaskInstance

    logical = datetime(2026, 3, 1, 6, 30, tzinfo=timezone.utc)
    ended = logical + timedelta(minutes=7)
    ours = Task("load", "op", retry_delay=timedelta(seconds=delay), retry_exponential_backoff=backoff,
                max_retry_delay=timedelta(seconds=max_delay) if max_delay else None)
    fake_ti = NS(task=NS(retry_delay=ours.retry_delay, retry_exponential_backoff=backoff,
                         max_retry_delay=ours.max_retry_delay),
                 try_number=try_number, dag_id="nightly", task_id="load", logical_date=logical, end_date=ended,
                 log=logging.getLogger("test"))
    assert ended + retry_delay(ours, try_number, "nightly", logical) == TaskInstance.next_retry_datetime(fake_ti)
