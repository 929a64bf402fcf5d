"""The objects each system is given for one shape (pure: no I/O, no clock).

Every task does the same work on every system. Updraft's tasks are `EmptyOperator`s run by its
runner (the runner image: Python, Airflow 3 and its providers imported, the task built, `execute`
called). Argo runs the same runner image with the same import as its command (`WORK["airflow"]`),
or, "orchestration only", `true` in it (`WORK["noop"]`).
"""

from __future__ import annotations

from typing import Any, Mapping

from peer_shapes import Shape

EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
RUNNER_IMAGE = "updraft.local/runner:dev"
ROLE_ARN = "arn:aws:iam::123456789012:role/updraft-peers-bench"
WORK: dict[str, list[str]] = {
    # what Updraft's runner spends before `execute`, as a plain command: Python with Airflow as a
    # library and EmptyOperator's module imported (~1 s of CPU here)
    "airflow": ["python", "-c", "from airflow.providers.standard.operators.empty import EmptyOperator"],
    "noop": ["true"],
}
# the chart's default resources of every task pod (charts/updraft/values.yaml runner.resources): on a
# 2-core node the CPU requests let about 7 task pods run at once, on every system alike
TASK_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
# the same switch the runner sets (updraft/runner/main.py): Airflow imported as a library
WORK_ENV = [{"name": "_AIRFLOW__AS_LIBRARY", "value": "1"}]
# KWOK's fake nodes (hack/cluster/kwok.sh): what the capacity benchmark gives Updraft's task pods
# (runner.nodeSelector, runner.tolerations), for an Argo Workflow's pods (bench/peers/peer_kwok.py)
KWOK_PLACEMENT: dict[str, Any] = {
    "nodeSelector": {"type": "kwok"},
    "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}


def dag_id(shape: Shape) -> str:
    return f"peers_{shape.name}"


def updraft_definition(shape: Shape) -> str:
    """The shape as a dag-factory definition (YAML text, written by hand: flat and small)."""
    lines = [f"{dag_id(shape)}:", "  tasks:"]
    for task, ups in shape.upstream.items():
        lines += [f"    {task}:", f"      operator: {EMPTY}"]
        if ups:
            lines.append(f"      dependencies: [{', '.join(ups)}]")
    return "\n".join(lines) + "\n"


def updraft_workflow(shape: Shape, name: str) -> dict[str, Any]:
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name},
            "spec": {"roleArn": ROLE_ARN, "triggerMode": "manual_only", "definition": updraft_definition(shape)}}


def updraft_run(workflow: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": name},
            "spec": {"workflowName": workflow}}


def argo_workflow(shape: Shape, name: str, work: str = "airflow", image: str = RUNNER_IMAGE,
                  placement: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The shape as an Argo DAG. Pods are deleted when the workflow completes (Updraft deletes its
    own after a delay); `command` is always given, so the controller never looks the image up.
    `placement` (e.g. KWOK_PLACEMENT: nodeSelector, tolerations) goes into the Workflow's spec,
    which Argo applies to every pod of it."""
    tasks = []
    for task, ups in shape.upstream.items():
        entry: dict[str, Any] = {"name": task, "template": "work"}
        if ups:
            entry["dependencies"] = list(ups)
        tasks.append(entry)
    container = {"image": image, "imagePullPolicy": "Never", "command": WORK[work], "env": WORK_ENV,
                 "resources": TASK_RESOURCES}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "labels": {"bench": "peers", "shape": shape.name}},
            "spec": {"entrypoint": "main", "podGC": {"strategy": "OnWorkflowCompletion"},
                     "templates": [{"name": "main", "dag": {"tasks": tasks}},
                                   {"name": "work", "container": container}],
                     **(placement or {})}}


def airflow_dag(shape: Shape) -> str:
    """The shape as an Airflow 3 DAG file (Python source), no schedule, unpaused. Not EmptyOperator:
    Airflow's scheduler marks EmptyOperator tasks successful itself, with no pod (the first series
    here finished a 52-task fan-out in 3.8 s with no pod at all); a no-op operator of the file's
    own runs in a worker pod like every Updraft task does."""
    lines = ["from airflow.sdk import DAG",
             "from airflow.sdk.bases.operator import BaseOperator", "",
             "class Noop(BaseOperator):",
             "    def execute(self, context):",
             "        return None", "",
             f"with DAG({dag_id(shape)!r}, schedule=None, catchup=False, is_paused_upon_creation=False):",
             "    t = {}"]
    for task in shape.upstream:
        lines.append(f"    t[{task!r}] = Noop(task_id={task!r})")
    for task, ups in shape.upstream.items():
        for up in ups:
            lines.append(f"    t[{up!r}] >> t[{task!r}]")
    return "\n".join(lines) + "\n"


def airflow_pod_template(execution_api: str, dags_host_dir: str, image: str = RUNNER_IMAGE) -> dict[str, Any]:
    """The KubernetesExecutor's worker pod: the runner image (the same Airflow), its entrypoint
    replaced (the executor gives only `args`: python -m airflow.sdk.execution_time.execute_workload
    ...), the DAG files from the host, the Execution API of the host's api-server."""
    dags = "/opt/airflow/dags"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "placeholder"},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "base", "image": image, "imagePullPolicy": "Never",
                                     "command": ["/usr/bin/env"],
                                     # the image's uid (50000) has no passwd entry: Airflow's worker asks
                                     # for a user name (getpass reads USER first)
                                     "env": [{"name": "USER", "value": "airflow"},
                                             {"name": "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "value": execution_api},
                                             {"name": "AIRFLOW__CORE__DAGS_FOLDER", "value": dags}],
                                     "resources": TASK_RESOURCES,
                                     "volumeMounts": [{"name": "dags", "mountPath": dags, "readOnly": True}]}],
                     "volumes": [{"name": "dags", "hostPath": {"path": dags_host_dir, "type": "Directory"}}]}}
