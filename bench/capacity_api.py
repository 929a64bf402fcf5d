"""The capacity benchmark's api phase: the MWAA Serverless API's latency with many stored runs
(issue 16: p99 of GetWorkflowRun and ListWorkflowRuns at 10,000 runs).

1. `--api-runs` finished WorkflowRuns are stored for API_WORKFLOWS workflows, written straight
   to the Kubernetes API (a create, then a status patch with a SUCCESS state and one task
   instance, as the operator leaves a finished run), `parallel` calls at a time. The bench's
   operator is installed with 0 replicas for this phase: nothing runs, no pod is made.
2. `updraft api serve` runs as a local process of this checkout (PYTHONPATH=operator, plain
   HTTP on 127.0.0.1, SigV4 keys from a credentials file, the bench namespace, the cluster's
   admin kubeconfig), as tests/integration/test_api_lifecycle.py starts it. The chart's API
   Deployment is not used: install() turns it off, its certificate names no address this host
   reaches it by, and it would run the image on the node rather than this checkout's code.
3. An unmodified boto3 client times, one call after another, GET_CALLS GetWorkflowRun calls on
   runs picked at random and LIST_CALLS ListWorkflowRuns calls (default page size): walks of
   LIST_WALK pages, the first page and then each NextToken. Also timed, for comparison, from
   the Kubernetes API directly: the LIST of one workflow's runs that ListWorkflowRuns makes
   (in pages of 500, as it makes it, and unpaged), and a GET of a run; and the API's own mean
   time per operation (its /metrics). The API process's RSS comes from /proc.
4. The runs and workflows are deleted at the end (a delete-collection by label).

Keys: api_get_run_p50_ms_<N>, api_get_run_p99_ms_<N>, api_list_runs_p50_ms_<N>,
api_list_runs_p99_ms_<N>, api_rss_mb_<N> (RSS after the calls).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Mapping

from capacity_cluster import EMPTY, GROUP, RUN_NS, TOP, VERSION, kubeconfig, percentile

sys.path.insert(0, str(TOP / "operator"))  # this checkout's operator, as the API child runs it
from updraft.api.child import ApiChild, ApiStartError  # noqa: E402

API_WORKFLOWS = 5  # the runs are spread over this many workflows (ListWorkflowRuns reads one's)
GET_CALLS = 200
LIST_CALLS = 50
LIST_WALK = 5  # ListWorkflowRuns pages per walk: the first page, then NextToken 4 times
WARMUP_CALLS = 5  # untimed calls of each operation first (connection, first imports)
PHASE_LABEL = "bench.updraft.dev/phase"
WORKFLOW_LABEL = "updraft.dev/workflow"  # what ListWorkflowRuns selects a workflow's runs by
REGION, ACCOUNT = "us-east-1", "123456789012"
KEY = ("AKIACAPBENCH00000001", "capbench-secret")


# ---- pure helpers -------------------------------------------------------------------------------

def latency_ms(seconds: Iterable[float]) -> dict[str, Any]:
    """Call count and p50/p99/max in milliseconds of call durations given in seconds."""
    xs = [s * 1000 for s in seconds]
    p50, p99 = percentile(xs, 50), percentile(xs, 99)
    return {"calls": len(xs), "p50_ms": None if p50 is None else round(p50, 1),
            "p99_ms": None if p99 is None else round(p99, 1), "max_ms": round(max(xs), 1) if xs else None}


def result_keys(runs: int, get: Mapping[str, Any], listed: Mapping[str, Any], rss_mb: float | None) -> dict[str, Any]:
    """The bench.json keys of one api phase over `runs` stored runs."""
    return {f"api_get_run_p50_ms_{runs}": get.get("p50_ms"), f"api_get_run_p99_ms_{runs}": get.get("p99_ms"),
            f"api_list_runs_p50_ms_{runs}": listed.get("p50_ms"), f"api_list_runs_p99_ms_{runs}": listed.get("p99_ms"),
            f"api_rss_mb_{runs}": rss_mb}


def run_names(runs: int, workflows: list[str]) -> list[tuple[str, str]]:
    """(run name, workflow) of every stored run, spread over the workflows round-robin."""
    return [(f"api-{i:06d}", workflows[i % len(workflows)]) for i in range(runs)]


def pick_runs(stored: list[tuple[str, str]], calls: int, seed: int = 16) -> list[tuple[str, str]]:
    """`calls` runs picked at random (without repeats while there are enough), reproducibly."""
    rng = random.Random(seed)
    if calls <= len(stored):
        return rng.sample(stored, calls)
    return [rng.choice(stored) for _ in range(calls)]


def walk_starts(calls: int, walk: int, workflows: list[str], seed: int = 16) -> list[str | None]:
    """For each ListWorkflowRuns call, the workflow whose first page it asks for, or None when it
    follows the previous call's NextToken (walks of `walk` pages, each on a random workflow)."""
    rng = random.Random(seed)
    return [rng.choice(workflows) if i % walk == 0 else None for i in range(calls)]


def workflow_body(name: str) -> dict[str, Any]:
    definition = f"{name}:\n  schedule: None\n  tasks:\n    t:\n      operator: {EMPTY}\n"
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow",
            "metadata": {"name": name, "labels": {PHASE_LABEL: "api"}},
            "spec": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/capbench", "triggerMode": "manual_only",
                     "definition": definition}}


def run_body(name: str, workflow: str) -> dict[str, Any]:
    labels = {PHASE_LABEL: "api", WORKFLOW_LABEL: workflow, "app.kubernetes.io/managed-by": "updraft"}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowRun", "metadata": {"name": name, "labels": labels},
            "spec": {"workflowName": workflow, "runType": "ON_DEMAND"}}


def finished_status(name: str, workflow: str, started: datetime) -> dict[str, Any]:
    """The status of a finished single-task run, shaped as the operator leaves it."""
    def ts(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    ended = started + timedelta(seconds=3)
    stream = f"workflow_id={workflow}-0123456789/run_id={name}/task_id=t/attempt=1.log"
    return {"runState": "SUCCESS", "workflowVersion": "v1", "runId": name, "observedGeneration": 1,
            "startedOn": ts(started), "completedOn": ts(ended), "duration": 3, "finalized": True,
            "launch": {"image": "updraft.local/runner:dev", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/capbench",
                       "workflowId": f"{workflow}-0123456789", "logGroup": f"/aws/mwaa-serverless/{workflow}-0123456789/"},
            "taskInstances": [{"taskInstanceId": f"{name}.t", "taskId": "t", "attemptNumber": 1, "status": "SUCCESS",
                               "startedAt": ts(started + timedelta(seconds=1)), "endedAt": ts(ended),
                               "podName": f"{name}-t-1", "logStream": stream, "logStatus": "SHIPPED"}]}


def proc_memory_mb(status_text: str) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MB from a /proc/<pid>/status text."""
    out = {}
    for line in status_text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM") and rest.split():
            out[key] = round(int(rest.split()[0]) / 1024, 1)
    return out


def mean_seconds(metrics_text: str, metric: str, operation: str) -> float | None:
    """Mean of a Prometheus histogram for one `operation` label (its _sum over its _count)."""
    found: dict[str, float] = {}
    pattern = re.compile(rf'^{re.escape(metric)}_(sum|count)\{{[^}}]*operation="{re.escape(operation)}"[^}}]*\}}\s+(\S+)$')
    for line in metrics_text.splitlines():
        m = pattern.match(line.strip())
        if m:
            found[m.group(1)] = float(m.group(2))
    return found["sum"] / found["count"] if found.get("count") else None


# ---- the API process ----------------------------------------------------------------------------

class ApiProcess(ApiChild):
    """`updraft api serve` of this checkout, as a child process, on plain HTTP."""

    def __init__(self, workdir: Path) -> None:
        creds = workdir / "credentials.json"
        creds.write_text(json.dumps({KEY[0]: {"secretAccessKey": KEY[1], "fullAccess": True,
                                              "principal": f"arn:aws:iam::{ACCOUNT}:user/capbench"}}))
        try:
            super().__init__(kubeconfig=kubeconfig(), namespace=RUN_NS, region=REGION, account_id=ACCOUNT,
                             credentials=creds, audit=workdir / "audit.jsonl", log=workdir / "api.log",
                             rate_limit=1000, burst=1000,  # sequential calls: no throttling in the way
                             extra_env={"PYTHONPATH": str(TOP / "operator")}, start_timeout_s=60)
        except ApiStartError as e:
            raise SystemExit(f"capacity: {e}") from None

    def memory_mb(self) -> dict[str, float]:
        try:
            return proc_memory_mb(Path(f"/proc/{self.proc.pid}/status").read_text())
        except OSError:
            return {}

    def metrics(self) -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:  # noqa: S310
                return str(r.read().decode())
        except OSError:
            return ""


def boto3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("mwaa-serverless", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY[0],
                        aws_secret_access_key=KEY[1], config=Config(retries={"max_attempts": 1}))


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def time_calls(mwaa: Any, arns: Mapping[str, str], stored: list[tuple[str, str]]) -> dict[str, Any]:
    """GetWorkflowRun on random runs, then ListWorkflowRuns walks; the durations in seconds."""
    warm = pick_runs(stored, WARMUP_CALLS, seed=1)
    for name, wf in warm:
        mwaa.get_workflow_run(WorkflowArn=arns[wf], RunId=name)
        mwaa.list_workflow_runs(WorkflowArn=arns[wf])
    get_s = []
    for name, wf in pick_runs(stored, GET_CALLS):
        t0 = time.perf_counter()
        mwaa.get_workflow_run(WorkflowArn=arns[wf], RunId=name)
        get_s.append(time.perf_counter() - t0)
    first_s: list[float] = []
    next_s: list[float] = []
    sizes: list[int] = []
    token, arn = None, ""
    for start in walk_starts(LIST_CALLS, LIST_WALK, sorted(arns)):
        if start is not None or token is None:  # a new walk (or the last one ran out of pages)
            arn = arns[start or sorted(arns)[0]]
            took, out = timed(lambda: mwaa.list_workflow_runs(WorkflowArn=arn))
            first_s.append(took)
        else:
            took, out = timed(lambda: mwaa.list_workflow_runs(WorkflowArn=arn, NextToken=token))
            next_s.append(took)
        sizes.append(len(out.get("WorkflowRuns") or []))
        token = out.get("NextToken")
    return {"get_s": get_s, "list_first_s": first_s, "list_next_s": next_s, "page_sizes": sorted(set(sizes))}


# ---- storing and deleting the runs --------------------------------------------------------------

async def _with_retries(call: Callable[[], Awaitable[Any]], client: Any) -> None:
    for attempt in range(5):
        try:
            await call()
            return
        except client.ApiException as e:
            if e.status == 409:
                return
            if attempt == 4 or e.status not in (429, 500, 503, 504):
                raise
            await asyncio.sleep(0.5 * (attempt + 1))


async def _cluster(work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    from kubernetes_asyncio import client, config
    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig(), client_configuration=cfg)
    cfg.connection_pool_maxsize = 64
    async with client.ApiClient(cfg) as api:
        return await work(client, client.CustomObjectsApi(api))


def store_runs(workflows: list[str], stored: list[tuple[str, str]], parallel: int) -> float:
    """Create the workflows and the finished runs; seconds it took."""
    async def work(client: Any, custom: Any) -> None:
        for w in workflows:
            await _with_retries(lambda: custom.create_namespaced_custom_object(
                GROUP, VERSION, RUN_NS, "workflows", workflow_body(w)), client)
        sem = asyncio.Semaphore(parallel)

        async def one(name: str, wf: str) -> None:
            async with sem:
                await _with_retries(lambda: custom.create_namespaced_custom_object(
                    GROUP, VERSION, RUN_NS, "workflowruns", run_body(name, wf)), client)
                status = finished_status(name, wf, datetime.now(timezone.utc))
                await _with_retries(lambda: custom.patch_namespaced_custom_object_status(
                    GROUP, VERSION, RUN_NS, "workflowruns", name, {"status": status},
                    _content_type="application/merge-patch+json"), client)

        await asyncio.gather(*(one(n, w) for n, w in stored))

    t0 = time.monotonic()
    asyncio.run(_cluster(work))
    return time.monotonic() - t0


def time_kube_list(workflow: str, limit: int | None, calls: int = 10) -> list[float]:
    """The LIST that ListWorkflowRuns makes, alone: one workflow's runs by label, in pages of
    `limit` (500 as updraft.k8s.resources.LIST_PAGE; the Kubernetes API then reads them from
    etcd) or in one answer (None: from the API server's watch cache, Kubernetes 1.31 and later)."""
    async def work(client: Any, custom: Any) -> list[float]:
        took = []
        paging = {"limit": limit} if limit else {}
        for _ in range(calls):
            t0, cont = time.perf_counter(), None
            while True:
                page = await custom.list_namespaced_custom_object(
                    GROUP, VERSION, RUN_NS, "workflowruns", label_selector=f"{WORKFLOW_LABEL}={workflow}",
                    **paging, **({"_continue": cont} if cont else {}))
                cont = page["metadata"].get("continue")
                if not cont:
                    break
            took.append(time.perf_counter() - t0)
        return took
    return list(asyncio.run(_cluster(work)))


def time_kube_get(runs: list[tuple[str, str]]) -> list[float]:
    """A GET of one run from the Kubernetes API (GetWorkflowRun makes three such GETs), alone."""
    async def work(client: Any, custom: Any) -> list[float]:
        took = []
        for name, _ in runs:
            t0 = time.perf_counter()
            await custom.get_namespaced_custom_object(GROUP, VERSION, RUN_NS, "workflowruns", name)
            took.append(time.perf_counter() - t0)
        return took
    return list(asyncio.run(_cluster(work)))


def delete_stored() -> dict[str, Any]:
    """Delete the phase's runs and workflows (one delete-collection each); a failure is reported,
    not raised: the namespace goes with the release afterwards all the same."""
    async def work(client: Any, custom: Any) -> None:
        for plural in ("workflowruns", "workflows"):
            await custom.delete_collection_namespaced_custom_object(GROUP, VERSION, RUN_NS, plural,
                                                                    label_selector=f"{PHASE_LABEL}=api")
    t0 = time.monotonic()
    try:
        asyncio.run(_cluster(work))
    except Exception as e:  # e.g. the API server's 60 s request timeout on a very large collection
        return {"delete_s": round(time.monotonic() - t0, 1), "delete_error": f"{type(e).__name__}: {e}"[:300]}
    return {"delete_s": round(time.monotonic() - t0, 1)}


# ---- the phase ----------------------------------------------------------------------------------

def api_phase(runs: int, parallel: int) -> dict[str, Any]:
    workflows = [f"apibench{i}" for i in range(API_WORKFLOWS)]
    stored = run_names(runs, workflows)
    result: dict[str, Any] = {"runs": runs, "workflows": len(workflows), "runs_per_workflow": runs // len(workflows)}
    try:
        result["store_s"] = round(store_runs(workflows, stored, parallel), 1)
        with tempfile.TemporaryDirectory(prefix="capbench-api-") as tmp:
            api = ApiProcess(Path(tmp))
            try:
                rss_before = api.memory_mb()
                mwaa = boto3_client(api.url)
                listed = mwaa.list_workflows(MaxResults=100)["Workflows"]
                arns = {w["Name"]: w["WorkflowArn"] for w in listed if w["Name"] in workflows}
                if len(arns) != len(workflows):
                    raise SystemExit(f"capacity: ListWorkflows shows {sorted(arns)}, not the bench's {workflows}")
                calls = time_calls(mwaa, arns, stored)
                text = api.metrics()
                result["api_rss_mb"] = {"before": rss_before, "after": api.memory_mb()}
            finally:
                api.stop()
        result["get_run"] = latency_ms(calls["get_s"])
        result["list_runs"] = latency_ms(calls["list_first_s"] + calls["list_next_s"])
        result["list_runs_first_page"] = latency_ms(calls["list_first_s"])
        result["list_runs_next_page"] = latency_ms(calls["list_next_s"])
        result["list_page_sizes"] = calls["page_sizes"]
        result["server_mean_ms"] = {op: round(1000 * s, 1) if (s := mean_seconds(
            text, "updraft_api_request_duration_seconds", op)) is not None else None
            for op in ("GetWorkflowRun", "ListWorkflowRuns", "ListWorkflows")}
        result["kube_list_one_workflow"] = latency_ms(time_kube_list(workflows[0], 500))
        result["kube_list_one_workflow_unpaged"] = latency_ms(time_kube_list(workflows[0], None))
        result["kube_get_run"] = latency_ms(time_kube_get(pick_runs(stored, 50, seed=3)))
    finally:
        result.update(delete_stored())
    return result


def api_rows(r: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The lines of the capacity table for an api phase result."""
    def ms(v: Any) -> str:
        return "-" if v is None else f"{v:,.1f} ms"
    g, lst = r.get("get_run") or {}, r.get("list_runs") or {}
    kube, server = r.get("kube_list_one_workflow") or {}, r.get("server_mean_ms") or {}
    unpaged, get = r.get("kube_list_one_workflow_unpaged") or {}, r.get("kube_get_run") or {}
    rss = ((r.get("api_rss_mb") or {}).get("after") or {})
    return [(f"GetWorkflowRun p50 / p99, {r.get('runs')} runs", f"{ms(g.get('p50_ms'))} / {ms(g.get('p99_ms'))}",
             f"{g.get('calls')} calls; max {ms(g.get('max_ms'))}; server mean {ms(server.get('GetWorkflowRun'))}"),
            ("  a Kubernetes GET of a run, alone", ms(get.get("p50_ms")), f"p50 of {get.get('calls')} (the call makes 3 GETs)"),
            (f"ListWorkflowRuns p50 / p99, {r.get('runs')} runs", f"{ms(lst.get('p50_ms'))} / {ms(lst.get('p99_ms'))}",
             f"{lst.get('calls')} calls, {r.get('runs_per_workflow')} runs per workflow; max {ms(lst.get('max_ms'))}; "
             f"server mean {ms(server.get('ListWorkflowRuns'))}"),
            ("  the Kubernetes LIST it makes, alone", ms(kube.get("p50_ms")),
             f"p50 of {kube.get('calls')} in pages of 500; unpaged (watch cache) {ms(unpaged.get('p50_ms'))}"),
            ("API process RSS after the calls", "-" if rss.get("VmRSS") is None else f"{rss['VmRSS']} MB",
             f"peak {rss.get('VmHWM')} MB; {r.get('runs')} runs stored in {r.get('store_s')} s")]
