"""The MWAA Serverless operations over the custom resources: decisions live in the versions service,
the model, the views, `api.requests` and pagination; this module reads and writes objects.

State lives only in Kubernetes: a Workflow per workflow (its API name in an annotation when
Kubernetes cannot hold it), the operator's WorkflowVersions, a WorkflowRun per run. ClientTokens
and a digest of the request they came with are kept as annotations on the object they created, so
a retried request finds its earlier result, on any API replica, after any restart."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping

from updraft import arns
from updraft.api import errors, views
from updraft.api.errors import FieldProblem
from updraft.api.pagination import PageTokens, page
from updraft.api.requests import refuse_code, request_digest, token_label, workflow_spec
from updraft.definition import Limits
from updraft.errors import Permanent
from updraft.k8s.resources import Invalid, Kube, KubeError
from updraft.model import names
from updraft.model.states import RunState
from updraft.model.times import parse_ts
from updraft.model.workflow import Compiled, Workflow, source_digest
from updraft.quota import Quotas, check_workflow_count
from updraft.sources import SourceError
from updraft.versions import InvalidDefinition, Versions, compile_definition

TOKEN_ANNOTATION = "updraft.dev/client-token"
TOKEN_LABEL = "updraft.dev/client-token-hash"  # finds an earlier use of a ClientToken on any object
DIGEST_ANNOTATION = "updraft.dev/request-digest"
Obj = dict[str, Any]


@dataclass(frozen=True)
class ServiceConfig:
    namespace: str
    region: str
    account_id: str
    quotas: Quotas = field(default_factory=Quotas)
    limits: Limits = field(default_factory=Limits)  # what new definitions are validated against
    settle_seconds: float = 5.0  # how long create/update wait for the operator to record the version


def _short_operator(path: str) -> str:
    return path.rsplit(".", 1)[-1]


class Service:
    def __init__(self, kube: Kube, config: ServiceConfig, tokens: PageTokens,
                 s3_client_factory: Callable[[], Any], clock: Callable[[], datetime]) -> None:
        self.kube, self.config, self.tokens = kube, config, tokens
        self.s3_client_factory, self.clock = s3_client_factory, clock
        self.versions = Versions(kube)
        self._ops: dict[str, Callable[[Obj], Awaitable[Obj]]] = {
            "CreateWorkflow": self.create_workflow, "GetWorkflow": self.get_workflow,
            "ListWorkflows": self.list_workflows, "UpdateWorkflow": self.update_workflow,
            "DeleteWorkflow": self.delete_workflow, "ListWorkflowVersions": self.list_workflow_versions,
            "StartWorkflowRun": self.start_workflow_run, "StopWorkflowRun": self.stop_workflow_run,
            "GetWorkflowRun": self.get_workflow_run, "ListWorkflowRuns": self.list_workflow_runs,
            "ListTaskInstances": self.list_task_instances, "GetTaskInstance": self.get_task_instance,
            "TagResource": self.tag_resource, "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource, "CreateAirflowUiUrl": self.create_airflow_ui_url,
        }

    @property
    def ns(self) -> str:
        return self.config.namespace

    async def call(self, operation: str, params: Obj) -> Obj:
        return await self._ops[operation](params)

    # -- lookups ---------------------------------------------------------------------------------

    def arn(self, workflow: Mapping[str, Any]) -> str:
        return arns.arn_of(workflow, self.config.region, self.config.account_id)

    async def find_workflow(self, arn: str) -> Obj | None:
        """The Workflow an ARN names in this API's region, account and namespace, or None."""
        ref = arns.parse_workflow_arn(arn)
        if (ref is None or ref.partition != arns.PARTITION or ref.region != self.config.region
                or ref.account != self.config.account_id):
            return None
        workflow = await self.kube.get_or_none("Workflow", ref.object_name, self.ns)
        if workflow is None or arns.api_name(workflow) != ref.name or arns.arn_suffix(workflow["metadata"]["uid"]) != ref.suffix:
            return None
        return workflow

    async def workflow(self, arn: str) -> Obj:
        workflow = await self.find_workflow(arn)
        if workflow is None:
            raise errors.not_found(errors.WORKFLOW, arn, f"Workflow {arn} was not found.")
        return workflow

    async def _version(self, workflow: Obj, version_id: str) -> Obj:
        name = names.version_object_name(workflow["metadata"]["name"], version_id)
        version = await self.kube.get_or_none("WorkflowVersion", name, self.ns)
        if version is None:
            raise errors.not_found("WorkflowVersion", version_id,
                                   f"Version {version_id} of workflow {self.arn(workflow)} was not found.")
        return version

    async def _versions(self, workflow: Obj) -> list[Obj]:
        name = workflow["metadata"]["name"]
        items = await self.kube.list("WorkflowVersion", self.ns, labels={names.LABEL_WORKFLOW: names.label_value(name)})
        return [v for v in items if v["spec"].get("workflowName") == name]

    async def _runs(self, workflow: Obj) -> list[Obj]:
        """The workflow's runs, selected by the server by label (the operator labels every run on
        its first pass; the API labels the runs it makes) and read in one answer: every page of
        ListWorkflowRuns sorts them all anyway, and an unpaged LIST comes from the API server's
        cache (Kube.list); the spec decides, as a label value may be shortened."""
        name = workflow["metadata"]["name"]
        items = await self.kube.list("WorkflowRun", self.ns, labels={names.LABEL_WORKFLOW: names.label_value(name)},
                                     page_size=0)
        return [r for r in items if r["spec"].get("workflowName") == name]

    async def _run(self, workflow: Obj, run_id: str) -> Obj:
        run = await self.kube.get_or_none("WorkflowRun", run_id, self.ns) if _k8s_name_ok(run_id) else None
        if run is None or run["spec"].get("workflowName") != workflow["metadata"]["name"]:
            raise errors.not_found(errors.RUN, run_id, f"Run {run_id} of workflow {self.arn(workflow)} was not found.")
        return run

    async def run_of(self, workflow: Obj, run_id: str) -> Obj:
        """The run `run_id` of the workflow (ResourceNotFoundException if none); api/logs.py uses it."""
        return await self._run(workflow, run_id)

    async def _operators(self, workflow: Obj, version_id: str | None) -> dict[str, str]:
        """Task id -> operator class name, from the version's stored graph ({} if it is gone)."""
        if not version_id:
            return {}
        try:
            loaded = await self.versions.load(self.ns, workflow["metadata"]["name"], version_id)
        except Permanent:
            return {}
        return {t.task_id: _short_operator(t.operator) for t in loaded.graph.tasks.values()}

    # -- definition ------------------------------------------------------------------------------

    async def _compile(self, params: Obj, spec: Obj) -> tuple[Compiled, list[str]]:
        """Fetch and validate the definition a Create/Update names, through the versions service
        the operator uses too: (the record the operator reads back, warnings)."""
        refuse_code(params)
        try:
            compiled = await compile_definition(spec, self.ns, self.kube, self.s3_client_factory, self.config.limits,
                                                self.clock())
        except SourceError as e:
            raise errors.validation(f"The definition could not be read: {e.message}",
                                    [FieldProblem("DefinitionS3Location", e.message)]) from None
        except InvalidDefinition as e:
            problems = [FieldProblem(f"definition.{issue.path}" if issue.path else "definition",
                                     f"{issue.message} [{issue.rule}]") for issue in e.issues]
            raise errors.validation(f"The workflow definition is not valid: {'; '.join(str(i) for i in e.issues[:5])}",
                                    problems) from None
        # the operator reads the same S3 object version, and finds the version id the caller was told
        record = Compiled(source_digest({"definitionS3Location": spec["definitionS3Location"]}), compiled.version_id,
                          compiled.fetched.s3_version_read)
        return record, list(compiled.warnings)

    async def _settle(self, name: str, generation: int) -> Obj | None:
        """Wait (briefly) until the operator has reconciled `generation`, so a Get right after a
        Create/Update sees the new version. Best effort: the result stands either way."""
        deadline = asyncio.get_running_loop().time() + self.config.settle_seconds
        while True:
            workflow = await self.kube.get_or_none("Workflow", name, self.ns)
            status = (workflow or {}).get("status") or {}
            if workflow is None or int(status.get("observedGeneration") or 0) >= generation:
                return workflow
            if asyncio.get_running_loop().time() >= deadline:
                return workflow
            await asyncio.sleep(0.2)

    async def _count_workflows(self) -> int:
        try:
            return len(await self.kube.list("Workflow", None))
        except KubeError as e:
            if e.status != 403:  # an API confined to one namespace counts what it can see
                raise
            return len(await self.kube.list("Workflow", self.ns))

    # -- workflows -------------------------------------------------------------------------------

    async def create_workflow(self, p: Obj) -> Obj:
        name = p["Name"]
        obj_name = names.workflow_object_name(name)
        token = p.get("ClientToken") or ""
        digest = request_digest(p)
        existing = await self.kube.get_or_none("Workflow", obj_name, self.ns)
        if existing is not None:
            return self._replay_create(existing, name, token, digest)
        await self._refuse_reused_token("Workflow", token, lambda other: self.arn(other))
        spec = workflow_spec(p)  # option errors first: they are cheaper than reading S3
        exceeded = check_workflow_count(await self._count_workflows(), self.config.quotas)
        if exceeded is not None:
            raise errors.quota_exceeded(errors.WORKFLOW, name, "WorkflowsPerAccount", exceeded.message)
        compiled, warnings = await self._compile(p, spec)
        version = compiled.version_id
        annotations = {TOKEN_ANNOTATION: token, DIGEST_ANNOTATION: digest, names.ANNOTATION_COMPILED: compiled.encode()}
        if obj_name != name:
            annotations[names.ANNOTATION_API_NAME] = name
        body: Obj = {
            "apiVersion": names.API_VERSION, "kind": "Workflow",
            "metadata": {"name": obj_name, "namespace": self.ns, "annotations": annotations,
                         **({"labels": {TOKEN_LABEL: token_label(token)}} if token else {})},
            "spec": {k: v for k, v in {**spec, "tags": dict(p.get("Tags") or {}) or None}.items() if v is not None},
        }
        try:
            created = await self.kube.create(body, self.ns)
        except Invalid as e:
            raise errors.validation(f"The workflow was refused: {e.message}") from None
        if created.existed:  # a concurrent request won the race
            return self._replay_create(dict(created.body), name, token, digest)
        workflow = dict(created.body)
        await self._settle(obj_name, int(workflow["metadata"].get("generation", 1)))
        return {"WorkflowArn": self.arn(workflow), "CreatedAt": parse_ts(workflow["metadata"]["creationTimestamp"]),
                "RevisionId": views.revision_id(workflow), "WorkflowStatus": "READY", "WorkflowVersion": version,
                "IsLatestVersion": True, "Warnings": warnings}

    async def _refuse_reused_token(self, kind: str, token: str, describe: Callable[[Obj], str]) -> None:
        """A ClientToken already used for another object of `kind` (another workflow's name, a run
        of another workflow) is a different request under the same token: refused, as AWS does."""
        if not token:
            return
        earlier = await self.kube.list(kind, self.ns, labels={TOKEN_LABEL: token_label(token)})
        if earlier:
            raise errors.conflict(errors.WORKFLOW if kind == "Workflow" else errors.RUN, describe(earlier[0]),
                                  f"ClientToken {token!r} was already used for {describe(earlier[0])} with different "
                                  "parameters; use a new ClientToken for a different request.")

    def _replay_create(self, existing: Obj, name: str, token: str, digest: str) -> Obj:
        annotations = existing["metadata"].get("annotations") or {}
        arn = self.arn(existing)
        if arns.api_name(existing) != name:
            raise errors.conflict(errors.WORKFLOW, arn, f"Workflow name {name!r} maps to the Kubernetes object "
                                  f"{existing['metadata']['name']!r}, which belongs to workflow {arns.api_name(existing)!r}.")
        if not token or annotations.get(TOKEN_ANNOTATION) != token:
            raise errors.conflict(errors.WORKFLOW, arn, f"A workflow named {name} already exists: {arn}.")
        if annotations.get(DIGEST_ANNOTATION) != digest:
            raise errors.conflict(errors.WORKFLOW, arn, f"ClientToken {token!r} was already used to create workflow "
                                  f"{arn} with different parameters; use a new ClientToken for a different request.")
        found = Workflow.from_body(existing)
        return {"WorkflowArn": arn, "CreatedAt": found.created_at, "RevisionId": views.revision_id(existing),
                "WorkflowStatus": found.workflow_status, "WorkflowVersion": found.latest_version,
                "IsLatestVersion": True, "Warnings": list(found.status.get("warnings") or [])}

    async def get_workflow(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        version_id = p.get("WorkflowVersion") or (workflow.get("status") or {}).get("latestVersion")
        version = await self._version(workflow, version_id) if version_id else None
        return views.workflow_detail(workflow, version, self.config.region, self.config.account_id)

    async def list_workflows(self, p: Obj) -> Obj:
        scope = "ListWorkflows"
        after = self.tokens.decode(p["NextToken"], scope) if p.get("NextToken") else None
        items = await self.kube.list("Workflow", self.ns)
        chunk = page(items, arns.api_name, after, p.get("MaxResults"))
        summaries = [views.workflow_summary(w, self.config.region, self.config.account_id) for w in chunk.items]
        return {"Workflows": summaries, "NextToken": self.tokens.encode(scope, chunk.next_after) if chunk.next_after else None}

    async def update_workflow(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        if views.workflow_status(workflow) == "DELETING":
            raise errors.conflict(errors.WORKFLOW, p["WorkflowArn"], "The workflow is being deleted.")
        spec = workflow_spec(p)
        compiled, warnings = await self._compile(p, spec)
        version = compiled.version_id
        # merge-patch semantics: members left out of the request keep their values, except the
        # definition source, which is replaced whole (other kinds of source and a stale VersionId go)
        patch_spec: Obj = {k: v for k, v in spec.items() if v is not None}
        patch_spec["definitionS3Location"] = {"versionId": None, **spec["definitionS3Location"]}
        patch_spec.update({"definition": None, "definitionConfigMapRef": None})
        try:
            updated = await self.kube.patch("Workflow", workflow["metadata"]["name"], self.ns, {
                "metadata": {"annotations": {names.ANNOTATION_COMPILED: compiled.encode()}}, "spec": patch_spec})
        except Invalid as e:
            raise errors.validation(f"The update was refused: {e.message}") from None
        await self._settle(workflow["metadata"]["name"], int(updated["metadata"].get("generation", 1)))
        return {"WorkflowArn": self.arn(updated), "ModifiedAt": self.clock(), "WorkflowVersion": version,
                "Warnings": warnings}

    async def delete_workflow(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        name = workflow["metadata"]["name"]
        version_id = p.get("WorkflowVersion")
        if version_id:
            await self._version(workflow, version_id)
            if version_id == (workflow.get("status") or {}).get("latestVersion"):
                raise errors.conflict("WorkflowVersion", version_id, f"Version {version_id} is the latest version of "
                                      "the workflow; delete the workflow, or update it to a new version first.")
            pinned = [r["metadata"]["name"] for r in await self._runs(workflow)
                      if views.run_version(r) == version_id and views.run_state(r) not in RunState.FINAL]
            if pinned:
                raise errors.conflict("WorkflowVersion", version_id, f"Version {version_id} is used by unfinished runs "
                                      f"({', '.join(sorted(pinned)[:5])}); stop them first.")
            await self.kube.delete("WorkflowVersion", names.version_object_name(name, version_id), self.ns)
            return {"WorkflowArn": p["WorkflowArn"], "WorkflowVersion": version_id}
        # the operator's finalizer stops unfinished runs, then the versions and runs go with it
        await self.kube.delete("Workflow", name, self.ns)
        return {"WorkflowArn": p["WorkflowArn"]}

    async def list_workflow_versions(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        arn = self.arn(workflow)
        scope = f"ListWorkflowVersions|{arn}"
        after = self.tokens.decode(p["NextToken"], scope) if p.get("NextToken") else None
        chunk = page(await self._versions(workflow), _newest_first, after, p.get("MaxResults"))
        latest = (workflow.get("status") or {}).get("latestVersion")
        return {"WorkflowVersions": [views.version_summary(v, arn, latest) for v in chunk.items],
                "NextToken": self.tokens.encode(scope, chunk.next_after) if chunk.next_after else None}

    # -- runs ------------------------------------------------------------------------------------

    async def start_workflow_run(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        arn = self.arn(workflow)
        if views.workflow_status(workflow) == "DELETING":
            raise errors.conflict(errors.WORKFLOW, arn, "The workflow is being deleted.")
        version_id = p.get("WorkflowVersion")
        if version_id:
            await self._version(workflow, version_id)
        elif not (view := Workflow.from_body(workflow)).latest_version and view.invalid_reason:
            raise errors.conflict(errors.WORKFLOW, arn, f"The workflow has no valid version to run: {view.invalid_reason}")
        # a workflow whose version the operator has not recorded yet (CreateWorkflow returned before
        # it did) gets the run all the same: the run starts on the latest version once it is recorded
        token = p.get("ClientToken") or str(uuid.uuid4())
        digest = request_digest(p)
        name = names.manual_run_name(workflow["metadata"]["name"], f"{workflow['metadata']['uid']}/{token}")
        if await self.kube.get_or_none("WorkflowRun", name, self.ns) is None:
            await self._refuse_reused_token("WorkflowRun", token, lambda other: f"run {other['metadata']['name']} of "
                                            f"workflow {other['spec'].get('workflowName')}")
        body: Obj = {
            "apiVersion": names.API_VERSION, "kind": "WorkflowRun",
            "metadata": {"name": name, "namespace": self.ns,
                         "labels": {**names.workflow_labels(workflow["metadata"]["name"]), TOKEN_LABEL: token_label(token)},
                         "annotations": {TOKEN_ANNOTATION: token, DIGEST_ANNOTATION: digest}},
            "spec": {"workflowName": workflow["metadata"]["name"], "runType": "ON_DEMAND",
                     **({"workflowVersion": version_id} if version_id else {}),
                     **({"overrideParameters": p["OverrideParameters"]} if p.get("OverrideParameters") else {})},
        }
        try:
            created = await self.kube.create(body, self.ns)
        except Invalid as e:
            raise errors.validation(f"The run was refused: {e.message}") from None
        run = dict(created.body)
        if created.existed and (run["metadata"].get("annotations") or {}).get(DIGEST_ANNOTATION) != digest:
            raise errors.conflict(errors.RUN, name, f"ClientToken {token!r} was already used to start run {name} "
                                  "with different parameters; use a new ClientToken for a different request.")
        status = run.get("status") or {}
        return {"RunId": name, "Status": views.run_state(run),
                "StartedAt": parse_ts(status.get("startedOn")) or parse_ts(run["metadata"]["creationTimestamp"])}

    async def stop_workflow_run(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        run = await self._run(workflow, p["RunId"])
        state = views.run_state(run)
        if state not in RunState.FINAL:
            run = await self.kube.patch("WorkflowRun", run["metadata"]["name"], self.ns, {"spec": {"stop": True}})
            state = "STOPPING"
        return {"WorkflowArn": self.arn(workflow), "WorkflowVersion": views.run_version(run),
                "RunId": run["metadata"]["name"], "Status": state}

    async def get_workflow_run(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        return views.run_detail(await self._run(workflow, p["RunId"]), self.arn(workflow))

    async def list_workflow_runs(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        arn = self.arn(workflow)
        version_id = p.get("WorkflowVersion")
        scope = f"ListWorkflowRuns|{arn}|{version_id or ''}"
        after = self.tokens.decode(p["NextToken"], scope) if p.get("NextToken") else None
        runs = [r for r in await self._runs(workflow) if not version_id or views.run_version(r) == version_id]
        chunk = page(runs, _newest_first, after, p.get("MaxResults"))
        return {"WorkflowRuns": [views.run_summary(r, arn) for r in chunk.items],
                "NextToken": self.tokens.encode(scope, chunk.next_after) if chunk.next_after else None}

    async def list_task_instances(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        run = await self._run(workflow, p["RunId"])
        arn = self.arn(workflow)
        scope = f"ListTaskInstances|{arn}|{run['metadata']['uid']}"
        after = self.tokens.decode(p["NextToken"], scope) if p.get("NextToken") else None
        tasks = [t for t in (run.get("status") or {}).get("taskInstances") or [] if "taskInstanceId" in t]
        chunk = page(tasks, lambda t: t["taskInstanceId"], after, p.get("MaxResults"))
        operators = await self._operators(workflow, views.run_version(run))
        return {"TaskInstances": [views.task_summary(t, run, arn, operators) for t in chunk.items],
                "NextToken": self.tokens.encode(scope, chunk.next_after) if chunk.next_after else None}

    async def get_task_instance(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["WorkflowArn"])
        run = await self._run(workflow, p["RunId"])
        task = next((t for t in (run.get("status") or {}).get("taskInstances") or []
                     if t.get("taskInstanceId") == p["TaskInstanceId"]), None)
        if task is None:
            raise errors.not_found(errors.TASK_INSTANCE, p["TaskInstanceId"],
                                   f"Task instance {p['TaskInstanceId']} of run {p['RunId']} was not found.")
        cm = await self.kube.get_or_none("ConfigMap", names.xcom_configmap_name(run["metadata"]["name"]), self.ns)
        xcom = names.xcom_entries_of_task((cm or {}).get("data") or {}, task.get("taskId", ""))
        operators = await self._operators(workflow, views.run_version(run))
        return views.task_detail(task, run, self.arn(workflow), operators, xcom)

    # -- tags ------------------------------------------------------------------------------------

    async def tag_resource(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["ResourceArn"])
        tags = {**((workflow["spec"].get("tags")) or {}), **p["Tags"]}
        if len(tags) > 50:
            raise errors.validation(f"A workflow can have at most 50 tags; this request would give it {len(tags)}",
                                    [FieldProblem("Tags", "more than 50 tags in total")])
        reserved = [k for k in p["Tags"] if k.lower().startswith("aws:")]
        if reserved:
            raise errors.validation(f"Tag keys must not start with the reserved prefix aws: ({', '.join(reserved)})",
                                    [FieldProblem(f'Tags["{k}"]', "uses the reserved prefix aws:") for k in reserved])
        try:
            await self.kube.patch("Workflow", workflow["metadata"]["name"], self.ns, {"spec": {"tags": dict(p["Tags"])}})
        except Invalid as e:
            raise errors.validation(f"The tags were refused: {e.message}") from None
        return {}

    async def untag_resource(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["ResourceArn"])
        present = (workflow["spec"].get("tags") or {})
        removal = {k: None for k in p["TagKeys"] if k in present}
        if removal:
            await self.kube.patch("Workflow", workflow["metadata"]["name"], self.ns, {"spec": {"tags": removal}})
        return {}

    async def list_tags_for_resource(self, p: Obj) -> Obj:
        workflow = await self.workflow(p["ResourceArn"])
        return {"Tags": dict(workflow["spec"].get("tags") or {})}

    async def create_airflow_ui_url(self, p: Obj) -> Obj:
        raise errors.validation("CreateAirflowUiUrl is not supported: Updraft has no Airflow UI. Follow runs with "
                                "GetWorkflowRun and ListTaskInstances, kubectl get workflowruns, or the metrics.",
                                reason="other")

    # -- reads for the console (it authorizes and audits them as the operation they amount to) --

    async def version_graph(self, arn: str, version_id: str) -> Any:
        """The compiled TaskGraph of a version of a workflow (as GetWorkflow with WorkflowVersion)."""
        workflow = await self.workflow(arn)
        await self._version(workflow, version_id)
        try:
            return (await self.versions.load(self.ns, workflow["metadata"]["name"], version_id)).graph
        except Permanent as e:
            raise errors.not_found("WorkflowVersion", version_id, f"Version {version_id} cannot be read: {e}") from None

    async def task_instance_details(self, arn: str, run_id: str) -> Obj:
        """Every task instance of a run as GetTaskInstance shows it, without XCom (as ListTaskInstances)."""
        workflow = await self.workflow(arn)
        run = await self._run(workflow, run_id)
        operators = await self._operators(workflow, views.run_version(run))
        tasks = [t for t in (run.get("status") or {}).get("taskInstances") or [] if "taskInstanceId" in t]
        return {"TaskInstances": [views.task_detail(t, run, self.arn(workflow), operators, None) for t in tasks]}

    async def runs_with_task_states(self, arn: str, limit: int) -> Obj:
        """The newest `limit` runs as ListWorkflowRuns shows them, each with its tasks' states
        (ListTaskInstances' Status by task id): the console's grid, in one read."""
        workflow = await self.workflow(arn)
        runs = sorted(await self._runs(workflow), key=_newest_first)[:limit]
        return {"WorkflowRuns": [{**views.run_summary(r, arn), "TaskStates": {
            t["taskId"]: views.task_status(t.get("status")) for t in (r.get("status") or {}).get("taskInstances") or []
            if "taskId" in t}} for r in runs]}

    # -- authorization context -------------------------------------------------------------------

    async def resource_of(self, operation: str, p: Obj) -> tuple[str, dict[str, str]]:
        """The resource ARN a request acts on, and the tags it has now (aws:ResourceTag/<k>).
        CreateWorkflow acts on `workflow/<Name>-*`: the suffix is not known before the call."""
        arn = p.get("WorkflowArn") or p.get("ResourceArn")
        if isinstance(arn, str):
            workflow = await self.find_workflow(arn)
            resource = arns.authorization_resource(arn, workflow, self.config.region, self.config.account_id)
            return resource, dict((workflow or {}).get("spec", {}).get("tags") or {})
        if operation == "CreateWorkflow":
            return f"arn:aws:airflow-serverless:{self.config.region}:{self.config.account_id}:workflow/{p.get('Name', '')}-*", {}
        return "*", {}


def _newest_first(obj: Mapping[str, Any]) -> str:
    """Sort key putting the newest object first (names break ties, so keys are unique)."""
    created = parse_ts(obj["metadata"].get("creationTimestamp")) or datetime.fromtimestamp(0, timezone.utc)
    return f"{10**11 - int(created.timestamp()):012d}|{obj['metadata']['name']}"


def _k8s_name_ok(name: str) -> bool:
    return 0 < len(name) <= 253 and name == name.lower() and "_" not in name
