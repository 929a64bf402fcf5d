"""The task pod's one log format, on stdout (`kubectl logs`) and in CloudWatch Logs alike.

Airflow's line shape, every line tagged with its attempt:

    [2026-03-01T06:30:00.123+0000] {s3.py:112} INFO workflow=etl run=etl-m-1a2b task=load attempt=1 - message

The runner installs it once, before Airflow is imported (`install`): one handler on the root
logger, the only one (whatever configures logging later is undone by `reassert`), `print()` and
anything else written to sys.stdout/sys.stderr line by line as records of `task.stdout` /
`task.stderr`, Python warnings as records. Noise no task needs is dropped (`NoiseFilter`); the
task's own output and errors are kept.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from typing import Callable, TextIO

# Below ERROR, nothing a task's author can act on: database migrations, the web UI, the providers'
# UI-widget notices ("flask_appbuilder is not installed"), reading airflow.cfg, the default time zone.
NOISY_LOGGERS = ("alembic", "flask_appbuilder", "airflow.providers_manager", "airflow.configuration",
                 "airflow.settings", "airflow.plugins_manager")
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")  # their INFO: "Found credentials in ..."
DEPRECATIONS = ("DeprecationWarning", "PendingDeprecationWarning", "RemovedInAirflow", "DeprecatedImportWarning")
LIBRARY_PATHS = ("site-packages/", "dist-packages/")


class TaskLogFormatter(logging.Formatter):
    def __init__(self, workflow: str, run_id: str, task_id: str, attempt: int) -> None:
        super().__init__()
        self.tags = f"workflow={workflow} run={run_id} task={task_id} attempt={attempt}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}+0000"

    def format(self, record: logging.LogRecord) -> str:
        where = record.filename if record.lineno == 0 else f"{record.filename}:{record.lineno}"
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}"
        return f"[{self.formatTime(record)}] {{{where}}} {record.levelname} {self.tags} - {text}"


class NoiseFilter(logging.Filter):
    """Drops migrations' and the web UI's chatter and deprecation warnings raised inside installed
    libraries (Airflow's own, its providers', dag-factory's): a task's author can do nothing about
    them. Warnings from the task's own code, and everything at ERROR and above, are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        if record.name.startswith(NOISY_LOGGERS) or "flask_appbuilder" in str(record.msg):
            return False
        if record.levelno < logging.WARNING and record.name.startswith(QUIET_LIBRARIES):
            return False
        if record.name == "py.warnings":
            text = str(record.msg if not record.args else record.getMessage())
            head = text.split("\n", 1)[0]
            if any(d in head for d in DEPRECATIONS) and any(p in head for p in LIBRARY_PATHS):
                return False
        return True


class LineSink(logging.Handler):
    """Every formatted record to a stream (the container's own stdout) and, when set, to `ship`."""

    def __init__(self, stream: TextIO, ship: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.stream, self.ship = stream, ship

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self.stream.write(line + "\n")
            self.stream.flush()
            if self.ship is not None:
                self.ship(line)
        except Exception:  # noqa: BLE001 - a log line must never break the task
            self.handleError(record)


class LineTee(io.TextIOBase):
    """A text stream that turns complete lines into log records of one logger (print() output,
    a library writing to sys.stderr); a partial line waits for its end or for close/flush at exit."""

    def __init__(self, logger: logging.Logger, level: int, name: str) -> None:
        super().__init__()
        self.logger, self.level, self.label = logger, level, name
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self._emit(line)
        return len(text)

    def flush_pending(self) -> None:
        if self.pending:
            line, self.pending = self.pending, ""
            self._emit(line)

    def _emit(self, line: str) -> None:
        record = self.logger.makeRecord(self.logger.name, self.level, self.label, 0, line.rstrip("\r"), (), None)
        self.logger.handle(record)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False


class TaskLogging:
    """The installed set-up, to re-assert after imports that configure logging, and to undo."""

    def __init__(self, handler: LineSink, tees: tuple[LineTee, LineTee], stdout: TextIO, stderr: TextIO) -> None:
        self.handler, self.tees, self.stdout, self.stderr = handler, tees, stdout, stderr

    def reassert(self) -> None:
        """Airflow (or a library) may have configured logging since: one handler again, ours."""
        root = logging.getLogger()
        for h in list(root.handlers):
            if h is not self.handler:
                root.removeHandler(h)
        if self.handler not in root.handlers:
            root.addHandler(self.handler)
        root.setLevel(logging.INFO)
        for name in list(logging.root.manager.loggerDict):
            logger = logging.root.manager.loggerDict[name]
            if isinstance(logger, logging.Logger) and logger.handlers and name.startswith(("airflow", "dagfactory")):
                for h in list(logger.handlers):  # their own handlers would print a second, untagged copy
                    logger.removeHandler(h)
                logger.propagate = True
        sys.stdout, sys.stderr = self.tees

    def restore(self) -> None:
        for tee in self.tees:
            tee.flush_pending()
        sys.stdout, sys.stderr = self.stdout, self.stderr


def install(workflow: str, run_id: str, task_id: str, attempt: int,
            ship: Callable[[str], None] | None = None) -> TaskLogging:
    stdout, stderr = sys.stdout, sys.stderr
    handler = LineSink(stdout, ship)
    handler.setFormatter(TaskLogFormatter(workflow, run_id, task_id, attempt))
    handler.addFilter(NoiseFilter())
    logging.captureWarnings(True)
    tees = (LineTee(logging.getLogger("task.stdout"), logging.INFO, "stdout"),
            LineTee(logging.getLogger("task.stderr"), logging.WARNING, "stderr"))
    setup = TaskLogging(handler, tees, stdout, stderr)
    setup.reassert()
    return setup
