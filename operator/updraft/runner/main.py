"""`python -m updraft.runner`: run the task attempt the environment describes, log to stdout with
its workflow, run, task and attempt, and leave the outcome in /dev/termination-log."""

from __future__ import annotations

import json
import logging
import os
import sys

from updraft.runner import timing

TERMINATION_LOG = os.environ.get("UPDRAFT_TERMINATION_LOG", "/dev/termination-log")


def _report(state: str, error: str | None = None, reschedule_at: str | None = None, retry: bool = True) -> None:
    doc: dict[str, object] = {"state": state}
    if error:
        doc["error"] = error
    if reschedule_at:
        doc["reschedule_at"] = reschedule_at
    if not retry:
        doc["retry"] = False
    try:
        with open(TERMINATION_LOG, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc)[:4000])
    except OSError:
        pass


def _airflow_as_library() -> None:
    """Airflow's package, when imported, sets itself up as a server (`settings.initialize()`: the
    metadata database's engine, Airflow's logging configuration, policy plugins): about 2.5 s here
    that a task needs none of. `_AIRFLOW__AS_LIBRARY` is Airflow's own switch to skip it. What a
    task does need of that setup is the secrets masker on the `airflow.task` logger, which
    `mask_secret` (hooks, connections) looks up; it is installed here as Airflow's logging
    configuration would, and masks only where Airflow would (settings.MASK_SECRETS_IN_LOGS).
    Modules a task never uses are deferred (runner/deferred.py)."""
    os.environ.setdefault("_AIRFLOW__AS_LIBRARY", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "True")
    os.environ.setdefault("AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY", "False")
    from updraft.runner.deferred import defer

    defer()
    from airflow import settings

    # initialize() is skipped; what operators read of the configuration without a database (the
    # DAGs and plugins folders: the S3 hook's lineage reaches the plugins manager) is set here
    settings.configure_vars()


def _install_secrets_masker() -> None:
    from airflow.sdk.execution_time.secrets_masker import SecretsMasker

    task_logger = logging.getLogger("airflow.task")
    if not any(isinstance(f, SecretsMasker) for f in task_logger.filters):
        masker = SecretsMasker()
        task_logger.addFilter(masker)
        root = logging.getLogger()
        root.addFilter(masker)
        for handler in root.handlers:
            handler.addFilter(masker)


def main() -> int:
    timing.mark("main")
    _airflow_as_library()
    from updraft.runner.inputs import InputError, from_env

    try:
        inputs = from_env(os.environ)
    except InputError as e:
        print(f"updraft runner: {e}", file=sys.stderr)
        _report("failed", f"runner input: {e}")
        return 2
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format=f"%(asctime)s %(levelname)s workflow={inputs.workflow} run={inputs.run_id} "
                               f"task={inputs.task_id} attempt={inputs.attempt} %(name)s: %(message)s")
    log = logging.getLogger("updraft.runner")
    log.info("starting")
    try:
        _install_secrets_masker()
        from updraft.runner.execute import run_task

        result = run_task(inputs)
    except Exception as e:  # the DAG could not be built: an infrastructure-independent failure
        log.exception("could not load the task")
        _report("failed", f"{type(e).__name__}: {e}"[:1000])
        return 1
    log.info("finished: %s%s", result.state, f" ({result.error})" if result.error else "")
    _report(result.state, result.error, result.reschedule_at.isoformat() if result.reschedule_at else None,
            result.retry)
    print(timing.line(), flush=True)
    return 0 if result.state in ("success", "skipped", "up_for_reschedule") else 1
