"""Custom resources as the API's structures (pure): what GetWorkflow, ListWorkflowVersions,
GetWorkflowRun, ListTaskInstances and friends answer, built from the Workflow, WorkflowVersion and
WorkflowRun objects alone, so the API shows exactly what kubectl shows.

Differences from the objects are deliberate and small: task instances the engine marks SKIPPED
are NONE here (the model has no SKIPPED), and a run that has not been picked up yet is STARTING."""

from __future__ import annotations

import uuid
from typing import Any, Mapping

from updraft.arns import api_name, arn_of
from updraft.model.run import WorkflowRun
from updraft.model.states import TaskState
from updraft.model.times import parse_ts as ts
from updraft.model.workflow import Workflow

Obj = Mapping[str, Any]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != {}}


def revision_id(workflow: Obj) -> str:
    """Changes whenever the workflow's spec changes (its generation), stable otherwise."""
    meta = workflow["metadata"]
    return str(uuid.uuid5(uuid.UUID(meta["uid"]), str(meta.get("generation", 1))))


def workflow_status(workflow: Obj) -> str:
    return Workflow.from_body(workflow).workflow_status


def s3_location(loc: Obj | None) -> dict[str, Any] | None:
    if not loc:
        return None
    return _drop_none({"Bucket": loc.get("bucket"), "ObjectKey": loc.get("objectKey"), "VersionId": loc.get("versionId")})


def schedule_configuration(version: Obj | None) -> dict[str, Any] | None:
    schedule = ((version or {}).get("spec") or {}).get("schedule")
    if not schedule or schedule == "None":
        return None
    return {"CronExpression": schedule}


def workflow_summary(workflow: Obj, region: str, account: str) -> dict[str, Any]:
    view = Workflow.from_body(workflow)
    return _drop_none({
        "WorkflowArn": arn_of(workflow, region, account), "WorkflowVersion": view.latest_version,
        "Name": view.api_name, "Description": view.spec.get("description"), "CreatedAt": view.created_at,
        "ModifiedAt": view.modified_at, "WorkflowStatus": view.workflow_status, "TriggerMode": view.trigger_mode,
    })


def workflow_detail(workflow: Obj, version: Obj | None, region: str, account: str) -> dict[str, Any]:
    view = Workflow.from_body(workflow)
    spec = workflow["spec"]
    vspec = (version or {}).get("spec") or {}
    created = ts(workflow["metadata"].get("creationTimestamp"))
    encryption = spec.get("encryption")
    network = spec.get("network") or {}
    source = vspec.get("source") or {}
    return _drop_none({
        "WorkflowArn": arn_of(workflow, region, account),
        "WorkflowVersion": vspec.get("versionId"),
        "Name": api_name(workflow),
        "Description": spec.get("description"),
        "CreatedAt": created,
        "ModifiedAt": view.modified_at,
        "EncryptionConfiguration": _drop_none({"Type": encryption.get("type"), "KmsKeyId": encryption.get("kmsKeyId")})
        if encryption else {"Type": "AWS_MANAGED_KEY"},
        "LoggingConfiguration": {"LogGroupName": spec["logging"]["logGroupName"]}
        if (spec.get("logging") or {}).get("logGroupName") else None,
        "EngineVersion": spec.get("engineVersion"),
        "WorkflowStatus": workflow_status(workflow),
        "DefinitionS3Location": s3_location(source.get("s3") if version else spec.get("definitionS3Location")),
        "ScheduleConfiguration": schedule_configuration(version),
        "RoleArn": spec.get("roleArn"),
        "NetworkConfiguration": _drop_none({"SecurityGroupIds": network.get("securityGroupIds") or None,
                                            "SubnetIds": network.get("subnetIds") or None}) or None,
        "Environment": {"Variables": dict(spec["environment"])} if spec.get("environment") else None,
        "TriggerMode": view.trigger_mode,
        "WorkflowDefinition": vspec.get("definition"),
    })


def version_summary(version: Obj, workflow_arn: str, latest: str | None) -> dict[str, Any]:
    spec = version["spec"]
    created = ts(version["metadata"].get("creationTimestamp"))
    return _drop_none({
        "WorkflowVersion": spec["versionId"], "WorkflowArn": workflow_arn, "IsLatestVersion": spec["versionId"] == latest,
        "CreatedAt": created, "ModifiedAt": created,
        "DefinitionS3Location": s3_location((spec.get("source") or {}).get("s3")),
        "ScheduleConfiguration": schedule_configuration(version), "TriggerMode": spec.get("triggerMode"),
    })


def run_state(run: Obj) -> str:
    return WorkflowRun.from_body(run).api_state


def run_version(run: Obj) -> str | None:
    return WorkflowRun.from_body(run).version


def run_summary(run: Obj, workflow_arn: str) -> dict[str, Any]:
    status = run.get("status") or {}
    return _drop_none({
        "RunId": run["metadata"]["name"], "WorkflowArn": workflow_arn, "WorkflowVersion": run_version(run),
        "RunType": run["spec"].get("runType") or "ON_DEMAND",
        "RunDetailSummary": _drop_none({"Status": run_state(run), "CreatedOn": ts(run["metadata"].get("creationTimestamp")),
                                        "StartedAt": ts(status.get("startedOn")), "EndedAt": ts(status.get("completedOn"))}),
    })


def run_detail(run: Obj, workflow_arn: str) -> dict[str, Any]:
    status = run.get("status") or {}
    created = ts(run["metadata"].get("creationTimestamp"))
    started, completed = ts(status.get("startedOn")), ts(status.get("completedOn"))
    duration = status.get("duration")
    if duration is None and started and completed:
        duration = int((completed - started).total_seconds())
    return _drop_none({
        "WorkflowArn": workflow_arn, "WorkflowVersion": run_version(run), "RunId": run["metadata"]["name"],
        "RunType": run["spec"].get("runType") or "ON_DEMAND",
        "OverrideParameters": run["spec"].get("overrideParameters") or None,
        "RunDetail": _drop_none({
            "WorkflowArn": workflow_arn, "WorkflowVersion": run_version(run), "RunId": run["metadata"]["name"],
            "RunType": run["spec"].get("runType") or "ON_DEMAND", "StartedOn": started, "CreatedAt": created,
            "CompletedOn": completed, "ModifiedAt": completed or started or created, "Duration": duration,
            "ErrorMessage": status.get("errorMessage"),
            "TaskInstances": [t["taskInstanceId"] for t in status.get("taskInstances") or [] if "taskInstanceId" in t],
            "RunState": run_state(run),
        }),
    })


def task_status(value: str | None) -> str:
    return TaskState.to_api(value)


def _task_duration(task: Obj) -> int | None:
    started, ended = ts(task.get("startedAt")), ts(task.get("endedAt"))
    return int((ended - started).total_seconds()) if started and ended else None


def task_summary(task: Obj, run: Obj, workflow_arn: str, operators: Mapping[str, str]) -> dict[str, Any]:
    return _drop_none({
        "WorkflowArn": workflow_arn, "WorkflowVersion": run_version(run), "RunId": run["metadata"]["name"],
        "TaskInstanceId": task["taskInstanceId"], "Status": task_status(task.get("status")),
        "DurationInSeconds": _task_duration(task), "OperatorName": operators.get(task.get("taskId", "")),
    })


def task_detail(task: Obj, run: Obj, workflow_arn: str, operators: Mapping[str, str],
                xcom: Mapping[str, str] | None) -> dict[str, Any]:
    ended = ts(task.get("endedAt"))
    started = ts(task.get("startedAt"))
    return _drop_none({
        **task_summary(task, run, workflow_arn, operators),
        "ModifiedAt": ended or started, "StartedAt": started, "EndedAt": ended,
        "AttemptNumber": task.get("attemptNumber"), "ErrorMessage": task.get("errorMessage"),
        "TaskId": task.get("taskId"), "LogStream": task.get("logStream"), "Xcom": dict(xcom) if xcom else None,
    })
