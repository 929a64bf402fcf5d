"""Workflow reconciliation: definition -> validated immutable version, identity and isolation
objects, status. The decisions are the validator's and the builders'; this module does the I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from updraft.arns import arn_of
from updraft.definition import content_version, validate
from updraft.handlers.context import Context, version_object_name
from updraft.handlers.sources import SourceError, fetch
from updraft.isolation import Owner, TaskApi, network_policy, object_name, security_group_policy, service_account
from updraft.podspec import naming
from updraft.quota.limits import check_workflow_count, versions_to_prune

FINAL_RUN_STATES = {"SUCCESS", "FAILED", "TIMEOUT", "STOPPED"}


def _ts(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, ok: bool, reason: str, message: str, now: datetime, generation: int,
              previous: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    status = "True" if ok else "False"
    old = next((c for c in previous or [] if c.get("type") == type_), None)
    since = old["lastTransitionTime"] if old and old.get("status") == status and old.get("lastTransitionTime") else _ts(now)
    return {"type": type_, "status": status, "reason": reason, "message": message[:4000],
            "lastTransitionTime": since, "observedGeneration": generation}


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


def _network_policy(ctx: Context, name: str, namespace: str, uid: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow's NetworkPolicy; ValueError naming the field when spec.network is unusable."""
    s = ctx.settings
    egress = (spec.get("network") or {}).get("egress")
    if egress is None and s.default_egress:
        egress = list(s.default_egress)
    api = TaskApi(s.operator_namespace, s.operator_pod_labels, s.task_api_port)
    return network_policy(name, namespace, Owner(name, uid), api, egress=egress)


async def _isolation(ctx: Context, name: str, namespace: str, uid: str, spec: Mapping[str, Any]) -> None:
    owner = Owner(name, uid)
    await _apply(ctx, service_account(name, namespace, spec["roleArn"], owner), namespace)
    await _apply(ctx, _network_policy(ctx, name, namespace, uid, spec), namespace)
    network = spec.get("network") or {}
    groups = network.get("securityGroupIds") or []
    if groups and await ctx.kube.exists_kind("SecurityGroupPolicy"):
        await _apply(ctx, security_group_policy(name, namespace, groups, owner), namespace)


async def _prune_versions(ctx: Context, name: str, namespace: str, latest: str) -> None:
    versions = await ctx.kube.list("WorkflowVersion", namespace, {naming.LABEL_WORKFLOW: naming.label_value(name)})
    mine = [(v["spec"]["versionId"], v["metadata"]["creationTimestamp"]) for v in versions
            if v["spec"].get("workflowName") == name]
    if len(mine) <= ctx.quotas.versions_per_workflow:
        return
    runs = await ctx.kube.list("WorkflowRun", namespace)
    pinned = {(r.get("status") or {}).get("workflowVersion") or r["spec"].get("workflowVersion") for r in runs
              if r["spec"].get("workflowName") == name and (r.get("status") or {}).get("runState") not in FINAL_RUN_STATES}
    for vid in versions_to_prune(mine, {p for p in pinned if p}, ctx.quotas.versions_per_workflow, latest):
        await ctx.kube.delete("WorkflowVersion", version_object_name(name, vid), namespace)


async def reconcile_workflow(ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the status to write (one patch, applied by the caller)."""
    meta, spec, old = body["metadata"], body["spec"], body.get("status") or {}
    name, namespace, uid = meta["name"], meta["namespace"], meta["uid"]
    generation = int(meta.get("generation", 0))
    now = ctx.now()
    status: dict[str, Any] = {
        "workflowStatus": "READY",
        "arn": arn_of(body, ctx.settings.region, ctx.settings.account_id),
        # what the workflow role's trust policy names: system:serviceaccount:<namespace>:<this>
        "serviceAccount": object_name(name),
        "observedGeneration": generation,
    }
    conditions = old.get("conditions") or []

    if not old.get("latestVersion"):
        # the quota is the cluster's, or the watched namespace's when the operator is namespaced
        others = [w for w in await ctx.kube.list("Workflow", ctx.settings.namespace) if w["metadata"]["uid"] != uid]
        exceeded = check_workflow_count(len(others), ctx.quotas)
        if exceeded is not None:
            status["conditions"] = [condition("DefinitionValid", False, "ServiceQuotaExceeded", exceeded.message, now,
                                              generation, conditions)]
            return status

    try:
        fetched = await fetch(spec, namespace, ctx.kube, ctx.s3_client_factory)
    except SourceError as e:
        status["conditions"] = [condition("DefinitionValid", False, "DefinitionUnavailable", str(e), now, generation,
                                          conditions)]
        return status

    result = validate(fetched.text, limits=ctx.limits, now=now)
    status["warnings"] = [str(w) for w in result.warnings]
    if not result.ok or result.graph is None:
        message = "\n".join(str(e) for e in result.errors)
        status["conditions"] = [condition("DefinitionValid", False, "InvalidDefinition", message, now, generation,
                                          conditions)]
        return status

    try:  # a workflow whose tasks could not be isolated gets no new version
        _network_policy(ctx, name, namespace, uid, spec)
    except ValueError as e:
        status["conditions"] = [condition("DefinitionValid", False, "InvalidNetwork", str(e), now, generation,
                                          conditions)]
        return status
    graph = result.graph
    version = content_version(graph)
    await ctx.kube.create({
        "apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowVersion",
        "metadata": {"name": version_object_name(name, version), "namespace": namespace,
                     "labels": {naming.LABEL_MANAGED: naming.MANAGED_BY, naming.LABEL_WORKFLOW: naming.label_value(name)},
                     "ownerReferences": Owner(name, uid).reference()},
        "spec": {"workflowName": name, "versionId": version, "definition": fetched.text, "source": dict(fetched.source),
                 "dagId": graph.dag_id, "schedule": graph.schedule or "None", "timezone": spec.get("timezone") or graph.timezone or "UTC",
                 "taskCount": len(graph.tasks), "triggerMode": spec.get("triggerMode", "scheduled"),
                 "warnings": status["warnings"]},
    }, namespace)
    await _prune_versions(ctx, name, namespace, version)
    await _isolation(ctx, name, namespace, uid, spec)
    ctx.graphs.put((namespace, version), graph)
    status["latestVersion"] = version
    status["conditions"] = [condition("DefinitionValid", True, "Valid", f"version {version}", now, generation, conditions)]
    return status


async def stop_runs_before_delete(ctx: Context, name: str, namespace: str) -> int:
    """Ask every unfinished run of the workflow to stop; returns how many are still unfinished."""
    unfinished = 0
    for run in await ctx.kube.list("WorkflowRun", namespace):
        if run["spec"].get("workflowName") != name:
            continue
        if (run.get("status") or {}).get("runState") in FINAL_RUN_STATES:
            continue
        unfinished += 1
        if not run["spec"].get("stop"):
            await ctx.kube.patch("WorkflowRun", run["metadata"]["name"], namespace, {"spec": {"stop": True}})
    return unfinished
