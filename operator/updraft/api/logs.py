"""Updraft's logs endpoint (not part of the MWAA model): one task attempt's log, from the source
`plan.logs.choose_log_source` picks (the live pod log while it runs, CloudWatch Logs afterwards),
and always which one and why.

    GET /updraft/v1/logs?WorkflowArn=...&RunId=...&TaskInstanceId=...[&Attempt=N][&NextToken=...]

SigV4-signed like every request (empty body), authorized as `airflow-serverless:GetTaskInstance`
on the workflow. The answer:

    {"Source": "pod" | "cloudwatch" | "none", "Reason": "...", "Attempt": n, "LogGroup": "...",
     "LogStream": "...", "Lines": [...], "NextToken": "...", "Final": true | false}

Give NextToken back to read on (`updraft logs -f` polls with it); Final: the attempt has ended and
nothing more will come. The token says how many lines were read, so a follower whose attempt moves
from its pod to CloudWatch does not see the lines twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Mapping

from updraft import arns, cloudlogs
from updraft.api import errors, model
from updraft.api.errors import FieldProblem
from updraft.api.service import Service
from updraft.k8s.resources import KubeError
from updraft.model import names
from updraft.model.states import LogBackend, TaskState
from updraft.plan.logs import CLOUDWATCH, POD, choose_log_source, effective_log_group

log = logging.getLogger("updraft.api.logs")
PATH = "/updraft/v1/logs"
OPERATION = "GetTaskInstanceLog"  # in metrics and the audit trail
AUTHORIZED_AS = "GetTaskInstance"  # the policy action it needs (policies name model operations only)
POD_LOG_LIMIT = 4 * 1024 * 1024
MAX_TOKEN = 4096


def parse_query(query: Mapping[str, str]) -> dict[str, Any]:
    """The request's members, checked as GetTaskInstance's (plus Attempt and NextToken)."""
    params: dict[str, Any] = {k: query[k] for k in ("WorkflowArn", "RunId", "TaskInstanceId") if k in query}
    problems = model.check_input(AUTHORIZED_AS, params)
    problems += [FieldProblem(member, message) for member, message in arns.partition_problems(params)]
    if "Attempt" in query:
        raw = query["Attempt"]
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            problems.append(FieldProblem("Attempt", "must be a whole number from 1 to 10000"))
        else:
            params["Attempt"] = int(raw)
    if "NextToken" in query:
        if len(query["NextToken"]) > MAX_TOKEN:
            problems.append(FieldProblem("NextToken", f"must be at most {MAX_TOKEN} characters"))
        params["NextToken"] = query["NextToken"]
    if problems:
        raise errors.invalid_fields(problems)
    return params


def _token(text: str | None) -> tuple[int, str | None]:
    """(lines already read, CloudWatch's own token)."""
    if not text:
        return 0, None
    count, _, cw = text.partition(":")
    return (int(count) if count.isdigit() else 0), (cw or None)


class TaskLogs:
    def __init__(self, service: Service, backend: str = LogBackend.NONE,
                 logs_client_factory: Callable[[], Any] | None = None) -> None:
        self.service, self.backend, self.logs_client_factory = service, backend, logs_client_factory
        self._client: Any = None

    async def read(self, p: Mapping[str, Any]) -> dict[str, Any]:
        svc = self.service
        workflow = await svc.workflow(p["WorkflowArn"])
        run = await svc.run_of(workflow, p["RunId"])
        task = next((t for t in (run.get("status") or {}).get("taskInstances") or []
                     if t.get("taskInstanceId") == p["TaskInstanceId"]), None)
        if task is None:
            raise errors.not_found(errors.TASK_INSTANCE, p["TaskInstanceId"],
                                   f"Task instance {p['TaskInstanceId']} of run {p['RunId']} was not found.")
        latest = int(task.get("attemptNumber") or 0)
        attempt = int(p.get("Attempt") or max(latest, 1))
        workflow_id = arns.workflow_id_of(workflow)
        group = effective_log_group(workflow.get("spec") or {}, workflow_id, self.backend)
        run_name, task_id = run["metadata"]["name"], task.get("taskId", "")
        stream = names.log_stream(workflow_id, run_name, task_id, attempt)
        pod = await self._pod(run_name, task_id, attempt)
        source = choose_log_source(backend=self.backend, task_status=task.get("status"), latest_attempt=latest,
                                   attempt=attempt, log_status=task.get("logStatus") if attempt == latest else None,
                                   log_reason=task.get("logStatusReason"), pod_exists=pod is not None, group=group)
        seen, cw_token = _token(p.get("NextToken"))
        lines: list[str] = []
        next_token = p.get("NextToken")
        if source.source == POD and pod is not None:
            try:
                text = await svc.kube.pod_log(pod, svc.ns, POD_LOG_LIMIT)
            except KubeError as e:
                raise errors.validation(f"the pod log of {pod} could not be read: {e}", reason="other") from None
            every = text.splitlines()
            lines, next_token = every[seen:], f"{len(every)}:"
        elif source.source == CLOUDWATCH and group is not None:
            lines, next_token = await self._cloudwatch(group, stream, seen, cw_token)
        running = attempt == latest and task.get("status") in TaskState.ACTIVE | TaskState.WAITING
        return {"Source": source.source, "Reason": source.reason, "Attempt": attempt, "LogGroup": group,
                "LogStream": stream, "Lines": lines, "NextToken": next_token, "Final": not running}

    async def _pod(self, run: str, task_id: str, attempt: int) -> str | None:
        """The newest pod of the attempt (a sensor's reschedules make several), or None."""
        pods = await self.service.kube.list("Pod", self.service.ns, names.run_selector(run))
        mine = [p for p in pods if (p["metadata"].get("annotations") or {}).get(names.ANNOTATION_TASK_ID) == task_id
                and (p["metadata"].get("labels") or {}).get(names.LABEL_ATTEMPT) == str(attempt)
                and not p["metadata"].get("deletionTimestamp")]
        mine.sort(key=lambda p: int((p["metadata"].get("annotations") or {}).get(names.ANNOTATION_RESCHEDULE, "0")))
        return mine[-1]["metadata"]["name"] if mine else None

    async def _cloudwatch(self, group: str, stream: str, seen: int, cw_token: str | None) -> tuple[list[str], str]:
        if self.logs_client_factory is None:
            raise errors.validation("this API has no CloudWatch Logs client", reason="other")
        if self._client is None:
            self._client = self.logs_client_factory()
        lines: list[str] = []
        skip = seen if cw_token is None else 0  # from a pod's log to the stream: skip what was read there
        token, count = cw_token, seen if cw_token is not None else 0
        for _ in range(10):  # at most 10 pages (10,000 lines) per answer
            try:
                page = await asyncio.to_thread(cloudlogs.read, self._client, group, stream, token)
            except cloudlogs.LogsError as e:
                raise errors.validation(f"CloudWatch Logs could not be read ({group} {stream}): {e}",
                                        reason="other") from None
            fresh = page.lines
            if skip:
                dropped = min(skip, len(fresh))
                fresh, skip = fresh[dropped:], skip - dropped
                count += dropped
            lines += fresh
            count += len(fresh)
            done = page.next_token == token or not page.lines
            token = page.next_token
            if done:
                break
        return lines, f"{count}:{token or ''}"
