"""The task runner: the entrypoint of every task pod. Runs exactly one attempt of one task with
real Airflow operators, and reports the outcome in the pod's termination message."""
