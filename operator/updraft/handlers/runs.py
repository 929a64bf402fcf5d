"""One reconcile of a WorkflowRun: read the run, its workflow, version and pods; ask the engine;
apply its actions; write the status once. Returns the engine's decision (for the daemon's timer)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any, Mapping

from updraft.definition import TaskGraph
from updraft.engine import CreatePod, Decision, DeletePod, Event, ObservedPod, RunStatus, RunView, reconcile
from updraft.engine.outcome import parse_outcome
from updraft import metrics
from updraft.handlers.context import Context, version_object_name
from updraft.handlers.workflows import FINAL_RUN_STATES
from updraft.isolation import object_name
from updraft.k8s.resources import KubeError
from updraft.podspec import naming
from updraft.podspec.build import PodInputs, build_pod, definition_configmap
from updraft.quota import RunSlot, admitted

log = logging.getLogger("updraft.runs")


def _time(v: Any) -> datetime | None:
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")) if v else None


def observe(pod: Mapping[str, Any]) -> ObservedPod:
    """The engine's view of a pod object."""
    meta, status = pod["metadata"], pod.get("status") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    container = next(iter(status.get("containerStatuses") or []), {})
    terminated = (container.get("state") or {}).get("terminated") or {}
    disruption = next((c.get("reason") for c in status.get("conditions") or [] if c.get("type") == "DisruptionTarget"
                       and c.get("status") == "True"), None)
    return ObservedPod(
        name=meta["name"], task_id=annotations.get(naming.ANNOTATION_TASK_ID, labels.get(naming.LABEL_TASK, "")),
        attempt=int(labels.get(naming.LABEL_ATTEMPT, "0")), reschedule=int(annotations.get(naming.ANNOTATION_RESCHEDULE, "0")),
        phase=status.get("phase", "Pending"), created_at=_time(meta.get("creationTimestamp")),
        started_at=_time(terminated.get("startedAt") or ((container.get("state") or {}).get("running") or {}).get("startedAt")
                         or status.get("startTime")),
        finished_at=_time(terminated.get("finishedAt")), deleted=bool(meta.get("deletionTimestamp")),
        exit_code=terminated.get("exitCode"), reason=status.get("reason") or terminated.get("reason"),
        disruption=disruption, outcome=parse_outcome(terminated.get("message")),
    )


async def _admitted(ctx: Context, run: Mapping[str, Any], graph: TaskGraph) -> bool:
    ns = run["metadata"]["namespace"]
    runs = await ctx.kube.list("WorkflowRun", ctx.settings.namespace)
    slots, limits = [], {}
    for r in runs:
        wf = f"{r['metadata']['namespace']}/{r['spec'].get('workflowName')}"
        slots.append(RunSlot(f"{r['metadata']['namespace']}/{r['metadata']['name']}", wf,
                             _time(r["metadata"]["creationTimestamp"]) or ctx.now(),
                             (r.get("status") or {}).get("runState", "")))
    limits[f"{ns}/{run['spec']['workflowName']}"] = graph.max_active_runs
    return f"{ns}/{run['metadata']['name']}" in admitted(slots, limits, ctx.settings.max_concurrent_runs)


async def _resolve_version(ctx: Context, run: Mapping[str, Any], workflow: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(version id, error) for the run; (None, None) while the workflow has no version yet."""
    status, spec = run.get("status") or {}, run["spec"]
    version = status.get("workflowVersion") or spec.get("workflowVersion")
    if version:
        return version, None
    if workflow is None:
        return None, f"workflow {spec['workflowName']!r} not found"
    wstatus = workflow.get("status") or {}
    if wstatus.get("latestVersion"):
        return wstatus["latestVersion"], None
    invalid = next((c for c in wstatus.get("conditions") or [] if c.get("type") == "DefinitionValid"
                    and c.get("status") == "False"), None)
    if invalid is not None:
        return None, invalid.get("message") or "the workflow definition is invalid"
    return None, None


async def reconcile_run(ctx: Context, namespace: str, name: str, post_event: Any) -> Decision | None:
    try:
        run = await ctx.kube.get("WorkflowRun", name, namespace)
    except KubeError:
        return None
    spec, old_status = run["spec"], run.get("status") or {}
    run_id = name
    wf_name = spec["workflowName"]
    workflow = await ctx.kube.get_or_none("Workflow", wf_name, namespace)
    now = ctx.now()
    extra: dict[str, Any] = {"runId": run_id}

    if workflow is not None and not any(o.get("uid") == workflow["metadata"]["uid"]
                                        for o in run["metadata"].get("ownerReferences") or []):
        # runs belong to their workflow: deleting it (after its runs stopped) removes them too
        await ctx.kube.patch("WorkflowRun", name, namespace, {"metadata": {"ownerReferences": [
            {"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "name": wf_name,
             "uid": workflow["metadata"]["uid"], "blockOwnerDeletion": False}]}})

    version, error = await _resolve_version(ctx, run, workflow)
    graph: TaskGraph | None = None
    if version is not None:
        extra["workflowVersion"] = version
        loaded = await ctx.graph(namespace, wf_name, version)
        if isinstance(loaded, str):
            error = loaded
        else:
            graph = loaded
    elif error is None:
        return Decision(RunStatus.from_dict(old_status), (), now + timedelta(seconds=2), False)  # not validated yet

    status = RunStatus.from_dict(old_status)
    is_waiting = status.run_state in ("STARTING", "QUEUED")
    if is_waiting and workflow is not None and workflow["spec"].get("triggerMode") == "disabled" and error is None:
        # a disabled workflow accepts no new runs (runs already going keep going)
        error = f"workflow {wf_name!r} is disabled (triggerMode: disabled): it accepts no new runs"
    view = RunView(name=name, workflow=wf_name, created_at=_time(run["metadata"]["creationTimestamp"]) or now,
                   status=status, stop_requested=bool(spec.get("stop")),
                   admitted=(not is_waiting) or (graph is not None and await _admitted(ctx, run, graph)),
                   definition_error=error, namespace=namespace, version=version or "",
                   run_type="scheduled" if spec.get("runType") == "SCHEDULED" else "manual",
                   logical_date=_time(spec.get("logicalDate")))
    pods = [observe(p) for p in await ctx.kube.list("Pod", namespace, {naming.LABEL_RUN: naming.label_value(name)})]
    decision = reconcile(view, graph, pods, now, ctx.engine_settings)

    definition = None  # the version's definition ConfigMap: looked up once per reconcile, when pods start
    if any(isinstance(a, CreatePod) for a in decision.actions):
        assert graph is not None and workflow is not None and version is not None
        definition = await _definition_configmap(ctx, namespace, wf_name, version, graph)
    for action in decision.actions:
        if isinstance(action, CreatePod):
            assert graph is not None and workflow is not None and version is not None and definition is not None
            logical = _time(spec.get("logicalDate")) or view.created_at
            token_secret = (await _token_secret(ctx, run, action.pod_name, action.task_id, action.attempt)
                            if ctx.settings.task_api_url else None)
            body = build_pod(PodInputs(
                namespace=namespace, workflow=wf_name, run_name=name, run_uid=run["metadata"]["uid"],
                version=version, task=graph.tasks[action.task_id], attempt=action.attempt,
                reschedule=action.reschedule, image=ctx.settings.image_for(workflow["spec"].get("engineVersion")),
                image_pull_policy=ctx.settings.runner_image_pull_policy, service_account=object_name(wf_name),
                role_arn=workflow["spec"]["roleArn"], region=ctx.settings.region, logical_date=logical,
                # the workflow's own variables, then the operator-wide ones (which win); neither may
                # override the identity and runner variables build_pod sets
                extra_env={**(workflow["spec"].get("environment") or {}), **ctx.settings.runner_env},
                resources=ctx.settings.runner_resources,
                task_api_url=ctx.settings.task_api_url, token_secret=token_secret,
                definition_configmap=definition,
                params_json=json.dumps(spec.get("overrideParameters") or {}),
                first_started_at=decision.status.tasks[action.task_id].started_at if action.reschedule else None,
                node_selector=ctx.settings.runner_node_selector, tolerations=ctx.settings.runner_tolerations, affinity=ctx.settings.runner_affinity,
                command=tuple(ctx.settings.runner_command)))
            await ctx.kube.create(body, namespace)
        elif isinstance(action, DeletePod):
            await ctx.kube.delete("Pod", action.pod_name, namespace)
        elif isinstance(action, Event):
            post_event(run, action.type, action.reason, action.message)

    new_status = {**decision.status.to_dict(wf_name, run_id), **extra,
                  "observedGeneration": run["metadata"].get("generation", 0)}
    if _differs(old_status, new_status):
        await ctx.kube.patch_status("WorkflowRun", name, namespace, new_status)
        _record(wf_name, spec.get("runType", "ON_DEMAND"), old_status, new_status, pods)
    metrics.RUN_STATES.set(namespace, name, new_status.get("runState"))
    return decision


async def _definition_configmap(ctx: Context, namespace: str, workflow: str, version: str, graph: TaskGraph) -> str:
    """The name of the ConfigMap holding the version's validated definition, created on first use
    (idempotent: a restarted operator or a second replica finds it there). Known maps are keyed by
    the version object's uid: a pruned version made again from the same content is a new object."""
    version_object = version_object_name(workflow, version)
    cm_name = naming.definition_configmap_name(version_object)
    uid = (await ctx.kube.get("WorkflowVersion", version_object, namespace))["metadata"]["uid"]
    if (namespace, cm_name, uid) not in ctx.definition_maps:
        await ctx.kube.create(definition_configmap(namespace, version_object, uid,
                                                   json.dumps(graph.normalized, separators=(",", ":"))), namespace)
        ctx.definition_maps.add((namespace, cm_name, uid))
    return cm_name


async def _token_secret(ctx: Context, run: Mapping[str, Any], pod: str, task_id: str, attempt: int) -> str:
    """The attempt's task-API token, in a Secret owned by the run (gone with it)."""
    from updraft.taskapi.tokens import Attempt, token

    meta = run["metadata"]
    name = f"{pod}-token"
    await ctx.kube.create({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": name, "namespace": meta["namespace"],
                     "labels": {naming.LABEL_MANAGED: naming.MANAGED_BY, naming.LABEL_RUN: naming.label_value(meta["name"])},
                     "ownerReferences": [{"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun",
                                          "name": meta["name"], "uid": meta["uid"]}]},
        "stringData": {"token": token(ctx.task_api_key, Attempt(meta["namespace"], meta["name"], task_id, attempt))},
    }, meta["namespace"])
    return name


def _record(workflow: str, run_type: str, old: Mapping[str, Any], new: Mapping[str, Any],
            pods: list[ObservedPod]) -> None:
    metrics.record_run_change(workflow, run_type, old, new)
    # a pod's start latency, once per pod: when its task leaves QUEUED (fast pods may skip RUNNING)
    was_queued = {t["taskId"]: t.get("podName") for t in old.get("taskInstances") or [] if t.get("status") == "QUEUED"}
    by_name = {p.name: p for p in pods}
    for t in new.get("taskInstances") or []:
        pod = by_name.get(was_queued.get(t["taskId"]) or "")
        if t.get("status") != "QUEUED" and pod and pod.created_at and pod.started_at:
            metrics.POD_START_LATENCY.observe(max(0.0, (pod.started_at - pod.created_at).total_seconds()))


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(k) != v for k, v in new.items())


def is_final(run: Mapping[str, Any]) -> bool:
    return (run.get("status") or {}).get("runState") in FINAL_RUN_STATES
