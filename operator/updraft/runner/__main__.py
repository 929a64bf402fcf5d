"""The task runner: the entrypoint of every task pod. Runs exactly one attempt of one task with
real Airflow operators, and reports the outcome in the pod's termination message.

The outcome is written and the logs flushed before the process ends; the interpreter's own
teardown (finalizing Airflow's hundreds of modules, a few hundred ms) is skipped with os._exit."""
import logging
import os
import sys

from updraft.runner.main import main

code = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
