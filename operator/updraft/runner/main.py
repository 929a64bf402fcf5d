"""`python -m updraft.runner`: run the task attempt the environment describes, log every line in
one format tagged with its workflow, run, task and attempt (runner/logformat.py) to stdout and,
when the operator names a log group and stream, to CloudWatch Logs (runner/shipper.py), and leave
the outcome and what became of the log in /dev/termination-log."""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Mapping

from updraft.model import names
from updraft.model.states import LogStatus
from updraft.runner import logformat, timing
from updraft.runner.shipper import LogShipper

if TYPE_CHECKING:
    from updraft.runner.xcom import TaskApiClient

TERMINATION_LOG = os.environ.get("UPDRAFT_TERMINATION_LOG", "/dev/termination-log")


FLUSH_TIMEOUT_S = 10.0  # how long the last lines may take to reach CloudWatch Logs at exit
FIRST_SEND_S = 2.0  # the first batch after this long, and not before the task's execute began; then every 2 s


def _report(doc: Mapping[str, object]) -> None:
    try:
        with open(TERMINATION_LOG, "w", encoding="utf-8") as f:
            f.write(json.dumps(doc)[:4000])
    except OSError:
        pass


def _outcome(state: str, error: str | None = None, reschedule_at: str | None = None,
             retry: bool = True) -> dict[str, object]:
    """The termination message's outcome (engine/outcome.py has the contract)."""
    doc: dict[str, object] = {"state": state}
    if error:
        doc["error"] = error
    if reschedule_at:
        doc["reschedule_at"] = reschedule_at
    if not retry:
        doc["retry"] = False
    return doc


def _start_shipper(env: Mapping[str, str]) -> LogShipper | None:
    """The attempt's log shipper when the operator named a group and stream (chart `logs.backend:
    cloudwatch`), else None: the log stays on the pod."""
    group, stream = env.get(names.ENV_LOG_GROUP), env.get(names.ENV_LOG_STREAM)
    if not group or not stream:
        return None
    return LogShipper(group, stream, first_send_after=float(env.get("UPDRAFT_LOG_FIRST_SEND_S", FIRST_SEND_S)),
                      ready=lambda: timing.reached("execute")).start()


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
    env = os.environ
    reporter = _reporter(env)
    shipper = _start_shipper(env)
    setup = logformat.install(env.get("UPDRAFT_WORKFLOW", "?"), env.get("UPDRAFT_RUN", "?"),
                              env.get("UPDRAFT_TASK_ID", "?"), int(env.get("UPDRAFT_ATTEMPT", "0") or 0),
                              ship=shipper.add if shipper is not None else None)
    log = logging.getLogger("updraft.runner")
    try:
        code, doc = _attempt(setup, log)
    finally:
        setup.restore()
    _report(doc)  # the outcome first: a kill while the log is flushed cannot lose it
    if reporter is not None:  # then to the operator, so that successors start while the log ships
        _report_to_operator(reporter, doc, log)
    if shipper is not None:
        shipped = shipper.close(FLUSH_TIMEOUT_S)
        timing.mark("shipped")
        setup.handler.ship = None
        _report({**doc, "logs": shipped.to_report()})
        if shipped.status != LogStatus.SHIPPED:
            log.warning("the log was not fully shipped to CloudWatch Logs (%s, %s lines sent, %s lost): %s",
                        shipped.status, shipped.sent, shipped.dropped, shipped.reason)
    log.info("%s", timing.line())
    return code


def _reporter(env: Mapping[str, str]) -> TaskApiClient | None:
    """The task-API client the outcome is reported with at the end, its connection opened now (in
    a thread, while Airflow is imported); None without a task API (local use) or when the
    client cannot be made (the termination message alone then)."""
    url, token = env.get("UPDRAFT_TASK_API_URL"), env.get("UPDRAFT_TASK_TOKEN")
    if not url or not token:
        return None
    from updraft.runner.xcom import TaskApiClient

    try:
        client = TaskApiClient(url, env.get("UPDRAFT_NAMESPACE", ""), env.get("UPDRAFT_RUN", ""),
                               env.get("UPDRAFT_TASK_ID", ""), int(env.get("UPDRAFT_ATTEMPT", "0") or 0), token)
        client.warm()
    except (OSError, ValueError):  # the CA file unreadable (TlsError), a malformed attempt number
        return None
    return client


def _report_to_operator(client: TaskApiClient, doc: Mapping[str, object], log: logging.Logger) -> None:
    """The outcome, once more, to the operator's task API (engine/outcome.py, "The early report"):
    it records it on this pod and starts the downstream tasks without waiting for the kubelet to
    notice this exit. Right after the termination message holds the outcome and before the log is
    shipped (half a second or more: the logs client is made then): the report says what the
    termination message says but for its `logs`, which the operator reads from the termination
    message once the pod has ended."""
    timing.mark("reporting")
    try:
        why_not = client.report(doc)
    except Exception as e:  # noqa: BLE001 - never fatal: the termination message says the same
        why_not = f"{type(e).__name__}: {e}"
    if why_not:
        log.info("the outcome was not reported to the operator early (%s); it reads the termination message",
                 why_not)
    timing.mark("reported")


def _attempt(setup: logformat.TaskLogging, log: logging.Logger) -> tuple[int, dict[str, object]]:
    """(exit code, outcome) of the attempt."""
    _airflow_as_library()
    setup.reassert()  # importing Airflow may have configured logging its own way
    from updraft.runner.inputs import InputError, from_env

    try:
        inputs = from_env(os.environ)
    except InputError as e:
        log.error("updraft runner: %s", e)
        return 2, _outcome("failed", f"runner input: {e}")
    log.info("starting (pod %s, reschedule %s)", os.environ.get("UPDRAFT_POD_NAME", "?"),
             os.environ.get("UPDRAFT_RESCHEDULE", "0"))
    try:
        _install_secrets_masker()
        from updraft.runner.execute import run_task

        result = run_task(inputs)
    except Exception as e:  # the DAG could not be built: an infrastructure-independent failure
        log.exception("could not load the task")
        return 1, _outcome("failed", f"{type(e).__name__}: {e}"[:1000])
    log.info("finished: %s%s", result.state, f" ({result.error})" if result.error else "")
    doc = _outcome(result.state, result.error, result.reschedule_at.isoformat() if result.reschedule_at else None,
                   result.retry)
    return (0 if result.state in ("success", "skipped", "up_for_reschedule") else 1), doc
