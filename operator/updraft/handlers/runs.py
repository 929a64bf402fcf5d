"""One reconcile of a WorkflowRun: read the run, its workflow, version and pods; ask the engine;
write the status; apply its actions. Returns the engine's decision (for the daemon's timer), or
None when the run is gone.

The status is written *before* the actions (only ended attempts' token Secrets are deleted before it) (see docs/operations.md, "What Updraft guarantees when
things fail"): a pod's name is on record before the pod can exist, and an outcome or a timeout
before the pod that showed it is deleted, so a crash between two calls loses no fact and never
makes the engine create a name twice. A pod create the API server refused for sure (or never
tried, after an earlier refusal) is taken back from the record with a second write, so the
same name is asked for again; an ambiguous failure (5xx, a timeout) leaves the record, and the
engine re-launches under a new name if the pod does not exist."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any, Callable

from updraft import metrics
from updraft.engine import (CreatePod, Decision, DeletePod, DeleteToken, Event, ObservedPod, RunStatus, RunView,
                            TaskInstance, observe, reconcile)
from updraft.errors import Permanent, Retry, transient
from updraft.handlers.context import Context
from updraft.k8s.resources import KubeError
from updraft.model import names
from updraft.model.run import Launch, WorkflowRun, choose_version
from updraft.model.states import RunState, TaskState, TriggerMode
from updraft.model.workflow import Workflow
from updraft.plan.logs import effective_log_group
from updraft.podspec.build import PodInputs, build_pod
from updraft.podspec.trust import with_task_api_ca
from updraft.taskapi.tokens import Attempt, token
from updraft.versions import Loaded

log = logging.getLogger("updraft.runs")
NOT_VALIDATED_YET = timedelta(seconds=2)
ACTION_RETRY = timedelta(seconds=10)
LOG_TAIL_LINES, LOG_TAIL_BYTES = 50, 1000  # of a killed attempt's pod log, into its error
PostEvent = Callable[[Any, str, str, str], None]


async def reconcile_run(ctx: Context, namespace: str, name: str, post_event: PostEvent) -> Decision | None:
    try:  # from the watch (kopf's live body, or the operator's own last write); a GET before it runs
        body = await ctx.watched.run(namespace, name)
    except KubeError as e:
        raise Retry(f"reading run {name}: {e}", delay=5 if transient(e) else 30) from None
    if body is None:
        return None
    run = WorkflowRun.from_body(body)
    workflow = await ctx.watched.workflow(namespace, run.workflow)  # from the workflow index
    now = ctx.now()
    if workflow is not None and workflow.uid not in run.owner_uids:
        # runs belong to their workflow: deleting it (after its runs stopped) removes them too
        await ctx.kube.patch("WorkflowRun", name, namespace, {"metadata": {
            "labels": names.workflow_labels(workflow.name),
            "ownerReferences": [names.owner_ref("Workflow", workflow.name, workflow.uid)]}})

    choice = choose_version(run, workflow)
    error, loaded = choice.error, None
    if choice.version is not None:
        try:
            loaded = await ctx.versions.load(namespace, run.workflow, choice.version)
        except Permanent as e:
            error = e.message
    elif error is None:  # the workflow has no version yet
        return Decision(RunStatus.from_dict(run.status), (), now + NOT_VALIDATED_YET, False)

    status = RunStatus.from_dict(run.status)
    waiting = status.run_state in (RunState.STARTING, RunState.QUEUED)
    if waiting and workflow is not None and workflow.trigger_mode == TriggerMode.DISABLED and error is None:
        error = f"workflow {run.workflow!r} is disabled (triggerMode: disabled): it accepts no new runs"
    launch = run.launch or (_launch(ctx, workflow) if workflow is not None else None)
    if launch is None and error is None and status.run_state not in RunState.FINAL:
        # deleted with its runs orphaned (kubectl delete --cascade=orphan) before this run recorded
        # what its pods are made with: no role, environment or image to start a task with
        error = (f"workflow {run.workflow!r} was deleted before this run started: "
                 "its role, environment and runner image are unknown, so no task can start")
    admitted = not waiting or (loaded is not None and await ctx.runs.is_admitted(
        run, loaded.graph.max_active_runs, ctx.settings.max_concurrent_runs))
    view = RunView(name=name, workflow=run.workflow, created_at=run.created_at or now, status=status,
                   stop_requested=run.stop_requested, admitted=admitted, definition_error=error,
                   namespace=namespace, version=choice.version or "",
                   run_type="scheduled" if run.is_scheduled else "manual", logical_date=run.logical_date)
    pods = await ctx.watched.pods(namespace, name)  # from the pod index
    pods += await _recorded_but_unlisted(ctx, namespace, status, pods)
    decision = reconcile(view, loaded.graph if loaded else None, pods, now, ctx.engine_settings)
    decision = await _with_log_tails(ctx, namespace, status, decision, pods)

    extra: dict[str, Any] = {"runId": name, "observedGeneration": run.generation}
    if choice.version is not None:
        extra["workflowVersion"] = choice.version
    if loaded is not None:
        extra["maxActiveRuns"] = loaded.graph.max_active_runs
    if launch is not None and run.launch is None and decision.status.run_state not in RunState.WAITING:
        extra["launch"] = launch.to_dict()  # admitted: every pod of this run is made with these
    if decision.done:
        extra["finalized"] = True  # its pods are cleaned up: no loop for it after a restart
    workflow_id = _workflow_id(run, launch, workflow)
    new_status = {**decision.status.to_dict(workflow_id, name), **extra}
    for action in decision.actions:  # tokens of ended attempts first: a crash after the record loses none
        if isinstance(action, DeleteToken):
            await _delete_token(ctx, run, action.pod_name)
    if any(run.status.get(k) != v for k, v in new_status.items()):
        await ctx.kube.patch_status("WorkflowRun", name, namespace, new_status)  # the record, then the acts
        _record(run.workflow, run.run_type, run.status, new_status, pods)
    failed, not_created = await _apply_actions(ctx, run, launch, loaded, view, decision, post_event)
    if not_created:  # take back the names the API server surely did not create: asked again next time
        before = RunStatus.from_dict(run.status).tasks
        taken_back = decision.status
        for tid in not_created:
            taken_back = taken_back.with_task(before.get(tid) or TaskInstance(tid))
        new_status = {**taken_back.to_dict(workflow_id, name), **extra}
        await ctx.kube.patch_status("WorkflowRun", name, namespace, new_status)
    metrics.RUN_STATES.set(namespace, name, new_status.get("runState"))
    if failed:  # look again soon: a refused pod may be accepted once a quota frees or a webhook answers
        requeue = now + ACTION_RETRY
        return Decision(decision.status, decision.actions, min(decision.requeue_at or requeue, requeue), False)
    return decision


async def _with_log_tails(ctx: Context, namespace: str, before: RunStatus, decision: Decision,
                          pods: list[ObservedPod]) -> Decision:
    """An attempt killed before its runner could report (OOM, a deadline: no termination message)
    gets the last lines of its pod's log in its error, while the pod still exists: the stream (or
    the pod, soon deleted) may not hold them."""
    by_name = {p.name: p for p in pods}
    status = decision.status
    for tid, ti in decision.status.tasks.items():
        old = before.tasks.get(tid)
        pod = by_name.get(ti.pod_name or "")
        if (pod is None or pod.phase != "Failed" or pod.outcome is not None or pod.reported is not None
                or pod.deleted or not ti.error
                or (old is not None and (old.status, old.attempt) == (ti.status, ti.attempt))):
            continue
        try:
            tail = await ctx.kube.pod_log(pod.name, namespace, limit_bytes=LOG_TAIL_BYTES * 8, tail_lines=LOG_TAIL_LINES)
        except KubeError as e:
            log.info("the log tail of pod %s/%s could not be read: %s", namespace, pod.name, e)
            continue
        if tail.strip():
            status = status.with_task(replace(ti, error=f"{ti.error}\n--- the last lines of its log ---\n"
                                                        f"{tail.strip()[-LOG_TAIL_BYTES:]}"))
    return replace(decision, status=status) if status is not decision.status else decision


def _launch(ctx: Context, workflow: Workflow) -> Launch:
    workflow_id = names.workflow_id(workflow.api_name, workflow.uid)
    return Launch(image=ctx.settings.image_for(workflow.engine_version),  # type: ignore[arg-type]
                  role_arn=workflow.role_arn, environment=dict(workflow.environment), workflow_id=workflow_id,
                  log_group=effective_log_group(workflow.spec, workflow_id, ctx.settings.logs_backend))


async def _recorded_but_unlisted(ctx: Context, namespace: str, status: RunStatus,
                                 listed: list[ObservedPod]) -> list[ObservedPod]:
    """The pods the status records for live tasks that the list did not show, read one by one: a
    list (or a watch-fed cache) may lag a create, and the engine takes a recorded pod that is
    missing for lost, so it must really be gone."""
    seen = {p.name for p in listed}
    found = []
    for ti in status.tasks.values():
        if ti.status in TaskState.ACTIVE and ti.pod_name and ti.pod_name not in seen:
            body = await ctx.kube.get_or_none("Pod", ti.pod_name, namespace)
            if body is not None:
                found.append(observe(body))
    return found


REFUSED = frozenset({400, 403, 404, 422, 429})  # answers that say the write was not applied


async def _apply_actions(ctx: Context, run: WorkflowRun, launch: Launch | None, loaded: Loaded | None,
                         view: RunView, decision: Decision, post_event: PostEvent) -> tuple[bool, set[str]]:
    """Apply the engine's actions in order (the tokens' deletes are done already); a failed write
    stops the rest and becomes an event. Returns (whether one failed, the tasks whose pod
    surely was not created: refused, or never tried)."""
    not_created: set[str] = set()
    failed = False
    for action in decision.actions:
        if failed:
            if isinstance(action, CreatePod):
                not_created.add(action.task_id)
            continue
        try:
            if isinstance(action, CreatePod):
                await _create_pod(ctx, run, launch, loaded, view, decision, action, not_created)
            elif isinstance(action, DeletePod):
                await ctx.kube.delete("Pod", action.pod_name, run.namespace)
            elif isinstance(action, Event):
                post_event(_ref(run), action.type, action.reason, action.message)
        except (KubeError, Permanent, TimeoutError, OSError) as e:
            log.warning("run %s/%s: %s failed: %s", run.namespace, run.name, type(action).__name__, e)
            post_event(_ref(run), "Warning", "ActionFailed", f"{type(action).__name__}: {e}")
            failed = True
    return failed, not_created


async def _delete_token(ctx: Context, run: WorkflowRun, pod: str) -> None:
    """Delete an ended attempt's token Secret. Done before the status records the end, so a failure
    fails the pass (asked again next time); only a 403 (a chart without `delete` on Secrets) is
    let go: the token then lives as long as its run, and is useless once its attempt ended."""
    if not ctx.settings.task_api_url:
        return  # no task API: no tokens were made
    try:
        await ctx.kube.delete("Secret", names.token_secret_name(pod), run.namespace)
    except KubeError as e:
        if e.status != 403:
            raise
        log.warning("run %s/%s: may not delete the token of %s (the chart's RBAC): %s", run.namespace, run.name, pod, e)


async def _create_pod(ctx: Context, run: WorkflowRun, launch: Launch | None, loaded: Loaded | None, view: RunView,
                      decision: Decision, action: CreatePod, not_created: set[str]) -> None:
    s = ctx.settings
    if launch is None or loaded is None:
        not_created.add(action.task_id)
        raise Permanent("WorkflowGone", f"workflow {run.workflow!r} is gone: no pod can be made")
    try:
        token_secret = (await _token_secret(ctx, run, action.pod_name, action.task_id, action.attempt)
                        if s.task_api_url else None)
    except BaseException:
        not_created.add(action.task_id)  # the pod was not tried
        raise
    ti = decision.status.tasks[action.task_id]
    body = build_pod(PodInputs(
        namespace=run.namespace, workflow=run.workflow, run_name=run.name, run_uid=run.uid,
        version=view.version, task=loaded.graph.tasks[action.task_id], attempt=action.attempt,
        reschedule=action.reschedule, infra_retries=ti.infra_retries, image=launch.image,
        image_pull_policy=s.runner_image_pull_policy, service_account=names.identity_name(run.workflow),
        role_arn=launch.role_arn, region=s.region, logical_date=view.effective_logical_date,
        # the workflow's own variables (as recorded at admission), then the operator-wide ones
        # (which win); neither may override the identity and runner variables build_pod sets
        extra_env={**launch.environment, **s.runner_env, **_log_env(run, launch, action)},
        resources=s.runner_resources,
        task_api_url=s.task_api_url, token_secret=token_secret, definition_configmap=loaded.definition_configmap,
        params_json=json.dumps(dict(run.override_parameters)),
        first_started_at=decision.status.tasks[action.task_id].started_at if action.reschedule else None,
        node_selector=s.runner_node_selector, tolerations=s.runner_tolerations, affinity=s.runner_affinity,
        extra_labels=s.runner_pod_labels, extra_annotations=s.runner_pod_annotations,
        command=tuple(s.runner_command)))
    if ctx.task_api_ca_pem:
        body = with_task_api_ca(body, ctx.task_api_ca_pem)
    try:
        await ctx.kube.create(body, run.namespace)
    except KubeError as e:
        if e.status in REFUSED:  # surely not created: taken back from the record, and its token goes
            not_created.add(action.task_id)
            if token_secret is not None:
                try:
                    await ctx.kube.delete("Secret", token_secret, run.namespace)
                except KubeError:
                    pass  # made again (409 is success) when the pod is asked for again
        raise


def _log_env(run: WorkflowRun, launch: Launch, action: CreatePod) -> dict[str, str]:
    """Where the attempt's runner ships its log (nothing when logs stay on the pods): the group
    recorded at admission, like the role."""
    if not launch.log_group:
        return {}
    return {names.ENV_LOG_GROUP: launch.log_group,
            names.ENV_LOG_STREAM: names.log_stream(launch.workflow_id or run.workflow, run.name, action.task_id,
                                                   action.attempt)}


def _workflow_id(run: WorkflowRun, launch: Launch | None, workflow: Workflow | None) -> str:
    """The workflow id of the ARN (log stream names): recorded at admission, else the workflow's."""
    if launch is not None and launch.workflow_id:
        return launch.workflow_id
    return names.workflow_id(workflow.api_name, workflow.uid) if workflow is not None else run.workflow


async def _token_secret(ctx: Context, run: WorkflowRun, pod: str, task_id: str, attempt: int) -> str:
    """The attempt's task-API token, in a Secret owned by the run (gone with it)."""
    name = names.token_secret_name(pod)
    await ctx.kube.create({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": name, "namespace": run.namespace,
                     "labels": {names.LABEL_MANAGED: names.MANAGED_BY, **names.run_selector(run.name)},
                     "ownerReferences": [names.owner_ref("WorkflowRun", run.name, run.uid)]},
        "stringData": {"token": token(ctx.task_api_key, Attempt(run.namespace, run.name, task_id, attempt, run.uid, pod))},
    }, run.namespace, read_existing=False)  # the chart's RBAC lets the operator create Secrets, never read them
    return name


def _ref(run: WorkflowRun) -> dict[str, Any]:
    """What kopf.event needs to name the run."""
    return {"apiVersion": names.API_VERSION, "kind": "WorkflowRun",
            "metadata": {"name": run.name, "namespace": run.namespace, "uid": run.uid}}


def _record(workflow: str, run_type: str, old: Any, new: Any, pods: list[ObservedPod]) -> None:
    metrics.record_run_change(workflow, run_type, old, new)
    # a pod's start latency, once per pod: when its task leaves QUEUED (fast pods may skip RUNNING)
    was_queued = {t["taskId"]: t.get("podName") for t in old.get("taskInstances") or [] if t.get("status") == "QUEUED"}
    by_name = {p.name: p for p in pods}
    for t in new.get("taskInstances") or []:
        pod = by_name.get(was_queued.get(t["taskId"]) or "")
        if t.get("status") != "QUEUED" and pod and pod.created_at and pod.started_at:
            metrics.POD_START_LATENCY.observe(max(0.0, (pod.started_at - pod.created_at).total_seconds()))
