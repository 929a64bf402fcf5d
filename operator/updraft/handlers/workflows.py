"""Workflow reconciliation: the definition compiled into an immutable version (only when its source
changed), identity and isolation objects, status. Decisions are `plan.workflow`'s and the
builders'; this module does the I/O."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from updraft import cloudlogs
from updraft.arns import arn_of
from updraft.errors import Retry
from updraft.handlers.context import Context
from updraft.isolation import Owner, TaskApi, network_policy, security_group_policy, service_account
from updraft.model import names
from updraft.model.run import WorkflowRun
from updraft.model.version import WorkflowVersion
from updraft.model.workflow import Workflow, created_before
from updraft.plan import logs as logplan
from updraft.plan import workflow as plan
from updraft.plan.logs import effective_log_group, user_log_group
from updraft.quota import check_workflow_count, versions_to_prune
from updraft.schedule import ScheduleError
from updraft.sources import SourceError
from updraft.versions import InvalidDefinition, compile_definition

SOURCE_RETRY_S = 10.0  # a source that cannot be read yet is tried again this often


class SourceUnavailable(Retry):
    """The definition cannot be read now; `status` is what to write meanwhile."""

    def __init__(self, message: str, status: dict[str, Any]) -> None:
        super().__init__(message, SOURCE_RETRY_S)
        self.status = status


async def _apply(ctx: Context, body: dict[str, Any], namespace: str) -> None:
    """Create, or bring an existing object's spec/annotations in line (idempotent)."""
    created = await ctx.kube.create(body, namespace)
    if not created.existed:
        return
    patch: dict[str, Any] = {}
    if body.get("metadata", {}).get("annotations"):
        patch["metadata"] = {"annotations": body["metadata"]["annotations"]}
    if "spec" in body and created.body.get("spec") != body["spec"]:
        patch["spec"] = body["spec"]
    if patch:
        await ctx.kube.patch(body["kind"], body["metadata"]["name"], namespace, patch)


def _network_policy(ctx: Context, workflow: Workflow) -> dict[str, Any]:
    """The workflow's NetworkPolicy; ValueError naming the field when spec.network is unusable."""
    s = ctx.settings
    egress = (workflow.spec.get("network") or {}).get("egress")
    if egress is None and s.default_egress:
        egress = list(s.default_egress)
    api = TaskApi(s.operator_namespace, s.operator_pod_labels, s.task_api_port)
    return network_policy(workflow.name, workflow.namespace, Owner(workflow.name, workflow.uid), api, egress=egress,
                          forbidden=s.forbidden_egress())


async def _isolation(ctx: Context, workflow: Workflow) -> None:
    owner, ns = Owner(workflow.name, workflow.uid), workflow.namespace
    await _apply(ctx, service_account(workflow.name, ns, workflow.role_arn, owner), ns)
    await _apply(ctx, _network_policy(ctx, workflow), ns)
    groups = (workflow.spec.get("network") or {}).get("securityGroupIds") or []
    if groups and await ctx.kube.exists_kind("SecurityGroupPolicy"):
        await _apply(ctx, security_group_policy(workflow.name, ns, groups, owner), ns)


async def _prune_versions(ctx: Context, workflow: Workflow, latest: str) -> None:
    keep = ctx.quotas.versions_per_workflow
    versions = [WorkflowVersion.from_body(v) for v in
                await ctx.kube.list("WorkflowVersion", workflow.namespace, names.workflow_labels(workflow.name))]
    mine = [(v.version_id, v.created_at) for v in versions if v.workflow == workflow.name and v.created_at]
    if len(mine) <= keep:
        return
    pinned = {r.version for r in await _runs_of(ctx, workflow) if not r.is_final and r.version}
    for vid in versions_to_prune(mine, pinned, keep, latest):
        await ctx.kube.delete("WorkflowVersion", names.version_object_name(workflow.name, vid), workflow.namespace)


async def _runs_of(ctx: Context, workflow: Workflow) -> list[WorkflowRun]:
    """Every run of the workflow, by spec (a run made with kubectl may lack the workflow label),
    from the run index (slim views that keep the spec): no LIST of every run per reconcile."""
    return await ctx.runs.of_workflow(workflow.namespace, workflow.name)


async def reconcile_workflow(ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the status to write (one patch, applied by the caller). Raises SourceUnavailable
    (with the status to write meanwhile) when the definition cannot be read now."""
    status = await _reconcile(ctx, body)
    return {**status, **await _logging(ctx, Workflow.from_body(body), status)}


async def _logging(ctx: Context, workflow: Workflow, status: Mapping[str, Any]) -> dict[str, Any]:
    """`logGroupName` (the effective group) and the LoggingReady condition. The default group is
    created (with the chart's retention) once, when the effective group changes or was not ready;
    a group the user named is only looked for: it is theirs."""
    s = ctx.settings
    workflow_id = names.workflow_id(workflow.api_name, workflow.uid)
    group, named = effective_log_group(workflow.spec, workflow_id, s.logs_backend), user_log_group(workflow.spec)
    conditions = status.get("conditions") or workflow.conditions
    old = workflow.condition(logplan.CONDITION_LOGGING_READY)
    if group is None:
        if named is None:
            return {"conditions": list(conditions)} if "conditions" in status else {}
        ok, reason, message = False, "BackendDisabled", (
            f"spec.logging.logGroupName ({named}) is set but this cluster ships no logs (logs.backend: none): "
            "task logs stay on their pods")
    elif workflow.status.get("logGroupName") == group and old is not None and old.get("status") == "True":
        ok, reason, message = True, str(old.get("reason")), str(old.get("message"))
    else:
        ok, reason, message = await _check_group(ctx, group, named is not None)
    out: dict[str, Any] = {"conditions": logplan.logging_condition(ok, reason, message, ctx.now(), workflow.generation,
                                                                   conditions)}
    if group is not None:
        out["logGroupName"] = group
    return out


async def _check_group(ctx: Context, group: str, users: bool) -> tuple[bool, str, str]:
    if ctx.logs_client_factory is None:
        return True, "NotChecked", f"task logs go to {group}"
    try:
        logs = ctx.logs_client_factory()
        if users:
            if await asyncio.to_thread(cloudlogs.group_exists, logs, group):
                return True, "GroupFound", f"task logs go to {group}"
            return False, "GroupNotFound", (f"the log group {group} named in spec.logging.logGroupName does not exist: "
                                            "task logs are not shipped until it is made (Updraft never creates it)")
        created = await asyncio.to_thread(cloudlogs.ensure_group, logs, group, ctx.settings.logs_retention_days)
        days = ctx.settings.logs_retention_days
        kept = f"kept {days} days" if days else "kept forever"
        return True, "GroupCreated" if created else "GroupExists", f"task logs go to {group} ({kept})"
    except cloudlogs.LogsError as e:
        return False, "GroupNotReady" if not users else "GroupNotChecked", f"{group}: {e}"


async def _reconcile(ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
    workflow = Workflow.from_body(body)
    now = ctx.now()
    status = plan.base_status(workflow, arn_of(body, ctx.settings.region, ctx.settings.account_id))

    if workflow.latest_version is None:
        # the quota is the cluster's, or the watched namespace's when the operator is namespaced;
        # the oldest workflows fit, whichever is reconciled first (from the watch-fed index: one
        # LIST of every workflow per reconcile made 1,000 new workflows cost a million reads)
        ahead = [w for w in await ctx.watched.workflows(ctx.settings.namespace) if created_before(w, workflow)]
        exceeded = check_workflow_count(len(ahead), ctx.quotas)
        if exceeded is not None:
            return {**status, **plan.invalid(workflow, "ServiceQuotaExceeded", exceeded.message, now)}

    try:  # a workflow whose tasks could not be isolated gets no new version
        _network_policy(ctx, workflow)
    except ValueError as e:
        return {**status, **plan.invalid(workflow, "InvalidNetwork", str(e), now)}

    if not plan.needs_compile(workflow):
        await _isolation(ctx, workflow)
        return status

    compiled_by_api = workflow.compiled
    try:
        compiled = await compile_definition(workflow.spec, workflow.namespace, ctx.kube, ctx.s3_client_factory,
                                            ctx.limits, now, compiled_by_api.s3_version_id if compiled_by_api else None)
    except SourceError as e:
        raise SourceUnavailable(str(e), {**status, **plan.invalid(workflow, "DefinitionUnavailable", str(e), now)}) from None
    except InvalidDefinition as e:
        return {**status, **plan.invalid(workflow, e.reason, e.message, now)}
    try:
        timezone = plan.schedule_timezone(workflow, compiled.graph)
        plan.workflow_schedule(workflow, compiled.graph)
    except ScheduleError as e:
        return {**status, **plan.invalid(workflow, "InvalidSchedule", f"spec.{e}" if e.field == "timezone" else str(e), now)}

    await ctx.versions.store(compiled, workflow, timezone)
    await _prune_versions(ctx, workflow, compiled.version_id)
    await _isolation(ctx, workflow)
    return {**status, **plan.valid(workflow, compiled.version_id, compiled.warnings, now)}


STOP_POLL_DELAYS_S = (2, 4, 8, 15, 30)


def stop_poll_delay(retry: int) -> float:
    """How long a deleted workflow waits before it looks at its stopping runs again, after `retry`
    looks. Each look is a kopf retry, which writes its progress on the Workflow: 1,000 workflows
    deleted at once, each looking every 2 s, were 500 writes a second, and the leader missed its
    Lease renewal (2026-12-03, the end of the capacity bench's schedule phase)."""
    return float(STOP_POLL_DELAYS_S[min(max(retry, 0), len(STOP_POLL_DELAYS_S) - 1)])


async def stop_runs_before_delete(ctx: Context, workflow: Workflow) -> int:
    """Ask every unfinished run of the workflow to stop; returns how many are still unfinished."""
    unfinished = 0
    for run in await _runs_of(ctx, workflow):
        if run.is_final:
            continue
        unfinished += 1
        if not run.stop_requested:
            await ctx.kube.patch("WorkflowRun", run.name, workflow.namespace, {"spec": {"stop": True}})
    return unfinished
