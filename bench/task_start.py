"""How long a task pod takes to reach its operator's `execute`, phase by phase (issue 17).

On the local cluster (the chart installed; the default when UPDRAFT_KUBECONFIG or --kubeconfig is set):

    .venv/bin/python bench/task_start.py --kubeconfig "$(bash hack/cluster/kubeconfig.sh | tail -1)" [--runs 10]

runs examples/01-hello --runs times, a one-task S3ListOperator workflow and (--chain-runs times) a
chain of ten EmptyOperator tasks (--shapes picks among them), in a namespace of its own (deleted
afterwards), and prints p50/p99 of: pod created -> container start, container start -> `execute`
called, `execute` -> exit, the gap between tasks, and run created -> SUCCESS.
"Pod created" is when this script's watch saw the pod (ms, not the API's 1 s timestamps);
"container start" is when the kernel started the runner's process; `execute` and exit come
from the runner's own timing line (updraft/runner/timing.py). Same machine, same clock.

The gap is measured per edge of the graph: from the upstream task's `execute` returning (its
last-finishing upstream, for a fan-in) to the downstream pod created, and split into what the
same watch saw in between: the runner's early report on the pod (`report_seen`) and the pod's
terminal phase (`terminal`: the kubelet noticed the exit and wrote the status).

Without a cluster, the runner process alone (no pod):

    .venv/bin/python bench/task_start.py --local [--python PY] [--rootfs DIR] [--runs 10]

times `python -m updraft.runner` on this host (the hello example's `start` task, EmptyOperator, and
an S3ListOperator task whose S3 is unreachable, so it fails fast once `execute` is called) and, with
--rootfs, in a container (runc, read-only root, as in a pod; DIR is the runner image's root
filesystem, e.g. `buildah mount` of it; needs root).

Results are merged into bench/out/bench.json (other keys kept): task_start_p50_s,
task_start_s3_p50_s, task_gap_p50_s, hello_e2e_p50_s (cluster); runner_*_p50_s (--local).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from updraft.definition import validate  # noqa: E402
from updraft.runner import timing  # noqa: E402

OUT = ROOT / "bench" / "out" / "bench.json"
HELLO = ROOT / "examples" / "01-hello" / "definition" / "hello.yaml"
S3_DEFINITION = """
bench_s3:
  tasks:
    list:
      operator: airflow.providers.amazon.aws.operators.s3.S3ListOperator
      bucket: updraft-bench
      prefix: 'in/{{ ds }}/'
"""
ROLE = "arn:aws:iam::123456789012:role/updraft-bench"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (with 10 runs, p99 is the slowest run)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<38} (no samples)"
    return (f"{name:<38} p50 {percentile(values, 50):6.2f} s   p99 {percentile(values, 99):6.2f} s   "
            f"min {min(values):6.2f}   max {max(values):6.2f}   n={len(values)}")


def merge_out(values: dict[str, float], out: Path = OUT) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError):
        doc = {}
    doc.update({k: round(v, 3) for k, v in values.items()})
    out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


# --- local: the runner process alone -------------------------------------------------------------

def _env(definition_file: str, task_id: str, term: str) -> dict[str, str]:
    return {"UPDRAFT_WORKFLOW": "bench", "UPDRAFT_RUN": "bench-1", "UPDRAFT_TASK_ID": task_id, "UPDRAFT_ATTEMPT": "1",
            "UPDRAFT_LOGICAL_DATE": "2026-03-01T00:00:00Z", "UPDRAFT_DEFINITION_FILE": definition_file,
            "UPDRAFT_TERMINATION_LOG": term, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


PHASES = ("launch_to_start", "start_to_execute", "execute_to_exit", "launch_to_execute", "launch_to_exit", "cpu")


def _phases(launched: float, ended: float, marks: dict[str, float] | None) -> dict[str, float]:
    """The phases of one run; only launch_to_exit for a runner without the timing line (before issue 17)."""
    out = {"launch_to_exit": ended - launched}
    if marks and "execute" in marks and "process_start" in marks:
        out.update({"launch_to_start": marks["process_start"] - launched,
                    "start_to_execute": marks["execute"] - marks["process_start"],
                    "execute_to_exit": ended - marks.get("executed", marks["execute"]),
                    "launch_to_execute": marks["execute"] - launched})
    return out


def run_host(python: str, definition: Path, task_id: str, work: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator"), "AIRFLOW_HOME": str(work / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "SCARF_NO_ANALYTICS": "True", "DO_NOT_TRACK": "True",
           **_env(str(definition), task_id, str(work / "termination-log"))}
    launched, cpu = time.time(), _children_cpu()
    proc = subprocess.run([python, "-m", "updraft.runner"], env=env, capture_output=True, text=True, check=False)
    return {**_phases(launched, time.time(), timing.parse(proc.stdout)), "cpu": _children_cpu() - cpu}


def _children_cpu() -> float:
    """User + system CPU seconds of the waited-for children: less sensitive than wall time to the
    other work on a shared machine."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _runc_config(rootfs: Path, definition: Path, task_id: str) -> dict[str, Any]:
    env = {"PATH": "/opt/runner/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp", "AIRFLOW_HOME": "/tmp/airflow",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
           "SCARF_NO_ANALYTICS": "True", "DO_NOT_TRACK": "True",
           **_env("/etc/updraft/definition.json", task_id, "/tmp/termination-log")}
    mounts = [{"destination": "/proc", "type": "proc", "source": "proc"},
              {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
              {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
              {"destination": "/etc/updraft/definition.json", "type": "bind", "source": str(definition),
               "options": ["rbind", "ro"]}]
    return {"ociVersion": "1.0.2", "root": {"path": str(rootfs), "readonly": True}, "hostname": "runner",
            "process": {"terminal": False, "user": {"uid": 50000, "gid": 50000}, "cwd": "/",
                        "args": ["python", "-m", "updraft.runner"], "env": [f"{k}={v}" for k, v in env.items()],
                        "noNewPrivileges": True},
            "mounts": mounts,
            "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]}}


def run_container(rootfs: Path, definition: Path, task_id: str, work: Path) -> dict[str, float]:
    bundle = work / f"bundle-{uuid.uuid4().hex[:8]}"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(_runc_config(rootfs, definition, task_id)))
    launched, cpu = time.time(), _children_cpu()
    proc = subprocess.run(["runc", "run", "--bundle", str(bundle), bundle.name], capture_output=True, text=True,
                          check=False)
    ended, cpu = time.time(), _children_cpu() - cpu
    shutil.rmtree(bundle, ignore_errors=True)
    if proc.returncode not in (0, 1):
        print(f"runc: {proc.stderr.strip()[-500:]}", file=sys.stderr)
    return {**_phases(launched, ended, timing.parse(proc.stdout)), "cpu": cpu}


def local(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="updraft-bench-"))
    try:
        hello = work / "hello.json"
        hello.write_text(json.dumps(validate(HELLO.read_text()).graph.normalized))  # type: ignore[union-attr]
        s3 = work / "s3.json"
        s3.write_text(json.dumps(validate(S3_DEFINITION).graph.normalized))  # type: ignore[union-attr]
        for p in (hello, s3):
            p.chmod(0o644)
        work.chmod(0o755)
        where = [("host", lambda d, t: run_host(args.python, d, t, work))]
        if args.rootfs:
            where.append(("container", lambda d, t: run_container(Path(args.rootfs), d, t, work)))
        results: dict[str, float] = {}
        for place, run in where:
            for label, definition, task_id in (("empty", hello, "start"), ("s3", s3, "list")):
                samples = [run(definition, task_id) for _ in range(args.runs)]
                print(f"\n{place}, {label} ({'EmptyOperator' if label == 'empty' else 'S3ListOperator'}), "
                      f"{args.runs} runs, load average {os.getloadavg()[0]:.1f}:")
                for phase in PHASES:
                    values = [s[phase] for s in samples if phase in s]
                    print("  " + summary(phase.replace("_", " "), values))
                    if values and phase in ("start_to_execute", "launch_to_execute", "launch_to_exit", "cpu"):
                        results[f"runner_{place}_{label}_{phase}_p50_s"] = percentile(values, 50)
        merge_out(results, Path(args.out))
        print(f"\nwritten to {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- cluster: pods of real runs --------------------------------------------------------------------

REPORT_ANNOTATION = "updraft.dev/report"  # the runner's outcome, recorded by the task API (issue 17)


def _chain_definition(n: int) -> str:
    lines = [f"bench_chain{n}:", "  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", "      operator: airflow.providers.standard.operators.empty.EmptyOperator"]
        if i:
            lines.append(f"      dependencies: [t{i - 1}]")
    return "\n".join(lines) + "\n"


def _upstream(text: str) -> dict[str, tuple[str, ...]]:
    graph = validate(text).graph
    assert graph is not None
    return {tid: tuple(task.upstream) for tid, task in graph.tasks.items()}


class PodTimes:
    """What this script's own watch saw of each pod, when (Unix seconds, ms resolution): first
    seen (`created`), first seen with a report annotation (`report_seen`), first seen in a terminal
    phase (`terminal`: the kubelet's status write, reached this watch)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, float]] = {}

    def saw(self, pod: Any, now: float) -> None:
        times = self.seen.setdefault(pod.metadata.name, {"created": now})
        if (pod.metadata.annotations or {}).get(REPORT_ANNOTATION):
            times.setdefault("report_seen", now)
        if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
            times.setdefault("terminal", now)


async def _watch_pods(core: Any, namespace: str, seen: PodTimes, stop: asyncio.Event) -> None:
    from kubernetes_asyncio import watch

    while not stop.is_set():
        w = watch.Watch()
        try:
            async for event in w.stream(core.list_namespaced_pod, namespace, timeout_seconds=30):
                seen.saw(event["object"], time.time())
                if stop.is_set():
                    break
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a dropped watch is restarted
            await asyncio.sleep(0.1)
        finally:
            w.stop()


async def _run_once(kube: Any, core: Any, namespace: str, workflow: str, name: str, seen: PodTimes,
                    timeout: float) -> tuple[float, str, list[dict[str, Any]]]:
    created = time.time()
    await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": name},
                       "spec": {"workflowName": workflow}}, namespace)
    state = ""
    while time.time() - created < timeout:
        run = await kube.get("WorkflowRun", name, namespace)
        state = (run.get("status") or {}).get("runState", "")
        if state in ("SUCCESS", "FAILED", "TIMEOUT", "STOPPED"):
            break
        await asyncio.sleep(0.05)
    e2e = time.time() - created
    await asyncio.sleep(1.5)  # the last pods' terminal status reaches the watch
    pods: list[dict[str, Any]] = []
    for pod in await kube.list("Pod", namespace, {"updraft.dev/run": name}):
        pod_name = pod["metadata"]["name"]
        if pod_name not in seen.seen:
            continue
        task = (pod["metadata"].get("annotations") or {}).get("updraft.dev/task-id", "")
        text = await core.read_namespaced_pod_log(pod_name, namespace)
        marks = timing.parse(text or "")
        if marks:
            pods.append({"task": task, **seen.seen[pod_name], **marks})
        else:  # a runner without the timing line: the kubelet's times (1 s resolution)
            term = ((pod.get("status", {}).get("containerStatuses") or [{}])[0].get("state") or {}).get("terminated")
            if term:
                pods.append({"task": task, **seen.seen[pod_name], "container_started": _instant(term["startedAt"]),
                             "exit": _instant(term["finishedAt"])})
    return e2e, state, pods


def _instant(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _wait_ready(kube: Any, namespace: str, workflow: str, timeout: float) -> None:
    start = time.time()
    while time.time() - start < timeout:
        wf = await kube.get("Workflow", workflow, namespace)
        if (wf.get("status") or {}).get("workflowStatus") == "READY":
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"workflow {workflow} not READY after {timeout:.0f} s")


def _edges(pods: list[dict[str, Any]], upstream: dict[str, tuple[str, ...]]) -> list[dict[str, float]]:
    """For each pod whose task has upstream tasks: the times of its last-finishing upstream pod
    (the one whose end let it start) and its own creation."""
    by_task = {p["task"]: p for p in pods}  # one attempt per task in these runs
    out = []
    for pod in pods:
        ups = [by_task[u] for u in upstream.get(pod["task"], ()) if u in by_task]
        if not ups:
            continue
        last = max(ups, key=lambda p: p.get("executed", p["exit"]))
        out.append({"created": pod["created"], **{k: v for k, v in last.items() if k != "created" and k != "task"}})
    return out


GAP_PHASES = {
    # the task's end (execute returned) -> the successor's pod created: the gap the run sees
    "gap": ("executed", "created"),
    "gap_from_exit": ("exit", "created"),  # < 0 when the successor starts while the runner exits
    "exit_to_terminal_seen": ("exit", "terminal"),  # the kubelet: PLEG relist + status write + watch
    "executed_to_report_seen": ("executed", "report_seen"),  # the runner's report through the task API
    "executed_to_reporting": ("executed", "reporting"),  # the runner: its outcome to the termination message
    "reporting_to_reported": ("reporting", "reported"),  # the report's round trip, as the runner saw it
    "reported_to_shipped": ("reported", "shipped"),  # the runner: the log's last lines to CloudWatch Logs
    "terminal_seen_to_created": ("terminal", "created"),  # the operator, woken by the terminal status
    "report_seen_to_created": ("report_seen", "created"),  # the operator, woken by the report
}


def _gap_samples(edges: list[dict[str, float]], samples: dict[str, list[float]]) -> None:
    for edge in edges:
        for key, (a, b) in GAP_PHASES.items():
            if a in edge and b in edge:
                samples.setdefault(key, []).append(edge[b] - edge[a])


async def cluster(args: argparse.Namespace) -> None:
    from kubernetes_asyncio import client, config

    from updraft.k8s.resources import Kube

    cfg = client.Configuration()
    await config.load_kube_config(config_file=args.kubeconfig, client_configuration=cfg)
    namespace = args.namespace or f"bench-{uuid.uuid4().hex[:6]}"
    chain = _chain_definition(10)
    shapes = {"hello": ("hello", HELLO.read_text()), "s3": ("bench-s3", S3_DEFINITION),
              "chain": ("bench-chain10", chain)}
    wanted = [s for s in args.shapes.split(",") if s]
    async with client.ApiClient(cfg) as api:
        kube, core = Kube(api), client.CoreV1Api(api)
        own_namespace = not args.namespace
        if own_namespace:
            await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        seen = PodTimes()
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_pods(core, namespace, seen, stop))
        try:
            for label in wanted:
                wf, text = shapes[label]
                if await kube.get_or_none("Workflow", wf, namespace):
                    await kube.delete("Workflow", wf, namespace)
                    while await kube.get_or_none("Workflow", wf, namespace):
                        await asyncio.sleep(0.5)
                await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": wf},
                                   "spec": {"roleArn": ROLE, "triggerMode": "manual_only", "definition": text}}, namespace)
                await _wait_ready(kube, namespace, wf, args.timeout)
            upstream = {"hello": _upstream(HELLO.read_text()), "chain": _upstream(chain)}
            samples: dict[str, list[float]] = {k: [] for k in (
                "created_to_start", "start_to_execute", "execute_to_exit", "created_to_execute", *GAP_PHASES,
                "s3_created_to_execute", "hello_e2e", "chain10_e2e", "chain10_gap", "created_to_exit",
                "kubelet_start_to_exit_1s_resolution")}
            load = [os.getloadavg()[0]]
            for i in range(args.runs):
                for label in wanted:
                    if label == "chain" and i >= args.chain_runs:
                        continue
                    wf = shapes[label][0]
                    run = f"{wf}-{args.tag}{i}"
                    e2e, state, pods = await _run_once(kube, core, namespace, wf, run, seen, args.timeout)
                    load.append(os.getloadavg()[0])
                    print(f"{run}: {state} in {e2e:.1f} s, {len(pods)} pods timed, load {load[-1]:.1f}", flush=True)
                    if label == "hello":
                        if state == "SUCCESS":
                            samples["hello_e2e"].append(e2e)
                        _gap_samples(_edges(pods, upstream["hello"]), samples)
                        for p in pods:
                            samples["created_to_exit"].append(p["exit"] - p["created"])
                            if "container_started" in p:
                                samples["kubelet_start_to_exit_1s_resolution"].append(p["exit"] - p["container_started"])
                                continue
                            samples["created_to_start"].append(p["process_start"] - p["created"])
                            samples["start_to_execute"].append(p["execute"] - p["process_start"])
                            samples["execute_to_exit"].append(p["exit"] - p.get("executed", p["execute"]))
                            samples["created_to_execute"].append(p["execute"] - p["created"])
                    elif label == "chain":
                        if state == "SUCCESS":
                            samples["chain10_e2e"].append(e2e)
                        chain_gaps: dict[str, list[float]] = {}
                        _gap_samples(_edges(pods, upstream["chain"]), chain_gaps)
                        samples["chain10_gap"] += chain_gaps.get("gap", [])
                    else:
                        samples["s3_created_to_execute"] += [p["execute"] - p["created"] for p in pods if "execute" in p]
            print(f"\nload average (1 min) during the series: median {percentile(load, 50):.1f}, "
                  f"min {min(load):.1f}, max {max(load):.1f}")
            for key, values in samples.items():
                print(summary(key.replace("_", " "), values))
            keys = {"task_start_p50_s": "created_to_execute", "task_start_s3_p50_s": "s3_created_to_execute",
                    "task_gap_p50_s": "gap", "hello_e2e_p50_s": "hello_e2e", "chain10_e2e_p50_s": "chain10_e2e"}
            merge_out({k: percentile(samples[v], 50) for k, v in keys.items() if samples[v]}, Path(args.out))
            print(f"\nwritten to {args.out}")
        finally:
            stop.set()
            watcher.cancel()
            if own_namespace:
                await core.delete_namespace(namespace)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--local", action="store_true", help="time the runner process only (no cluster)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for --local (with Airflow installed)")
    ap.add_argument("--rootfs", help="--local: also run in a container on this root filesystem (runc, needs root)")
    ap.add_argument("--kubeconfig", default=os.environ.get("UPDRAFT_KUBECONFIG", ""))
    ap.add_argument("--namespace", help="use this namespace (default: a new one, deleted afterwards)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a run may take")
    ap.add_argument("--tag", default=uuid.uuid4().hex[:4], help="run names: <workflow>-<tag><i>")
    ap.add_argument("--shapes", default="hello,s3,chain",
                    help="cluster: which workflows to run, of hello (examples/01-hello), s3 (one S3ListOperator "
                         "task), chain (ten EmptyOperator tasks in a chain)")
    ap.add_argument("--chain-runs", type=int, default=3, help="cluster: runs of the ten-task chain (at most --runs)")
    args = ap.parse_args()
    if args.local:
        local(args)
    elif args.kubeconfig:
        asyncio.run(cluster(args))
    else:
        ap.error("no cluster: give --kubeconfig (or UPDRAFT_KUBECONFIG), or --local")


if __name__ == "__main__":
    main()
