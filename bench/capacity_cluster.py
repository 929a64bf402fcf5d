"""The capacity benchmark's cluster side: kubectl/helm of the local cluster, the bench's own
namespaced Updraft release, pausing a cluster-wide operator meanwhile, and the clean-up; and the
nearest-rank percentile every phase reports with."""

from __future__ import annotations

import asyncio
import json
import math
import os
import pathlib
import subprocess
from typing import Iterable

TOP = pathlib.Path(__file__).resolve().parents[1]
CLUSTER = TOP / "hack" / "cluster"
GROUP, VERSION = "updraft.dev", "v1alpha1"
RELEASE, RELEASE_NS, RUN_NS = "capbench", "updraft-capbench-system", "updraft-capbench"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"  # every bench workflow's one task


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values; None when there are none."""
    xs = sorted(values)
    if not xs:
        return None
    return xs[max(0, math.ceil(q / 100 * len(xs)) - 1)]


# ---- the cluster --------------------------------------------------------------------------------

def versions() -> dict[str, str]:
    lines = (CLUSTER / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


BIN = pathlib.Path(os.environ.get("UPDRAFT_CACHE", pathlib.Path.home() / ".cache/updraft")) / "bin" / \
    f"k8s-{versions()['K8S_VERSION']}"


def sh(*cmd: str, check: bool = True) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"capacity: {' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{proc.stderr.strip()}")
    return proc.stdout


def kubeconfig() -> str:
    return sh("bash", str(CLUSTER / "kubeconfig.sh")).strip().splitlines()[-1]


def kubectl(*args: str, check: bool = True) -> str:
    return sh(str(BIN / "kubectl"), "--kubeconfig", kubeconfig(), *args, check=check)


def helm(*args: str) -> str:
    return sh(str(BIN / "helm"), "--kubeconfig", kubeconfig(), *args)


def pause_cluster_wide_operators() -> list[tuple[str, str, int]]:
    """Scale cluster-wide Updraft operators (they would reconcile our runs too) to 0; what to restore."""
    out = kubectl("get", "deploy", "-A", "-l", "app.kubernetes.io/component=operator,app.kubernetes.io/part-of=updraft",
                  "-o", "json")
    saved = []
    for d in json.loads(out)["items"]:
        env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        if env.get("UPDRAFT_WATCH_NAMESPACE") or d["metadata"]["namespace"] == RELEASE_NS:
            continue  # a namespaced install: it does not see our runs, and it is not ours to touch
        ns, name, replicas = d["metadata"]["namespace"], d["metadata"]["name"], int(d["spec"].get("replicas") or 0)
        if replicas:
            print(f"capacity: pausing the cluster-wide operator {ns}/{name} ({replicas} replica(s)) meanwhile")
            kubectl("-n", ns, "scale", f"deploy/{name}", "--replicas=0")
            saved.append((ns, name, replicas))
            selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
            kubectl("-n", ns, "wait", "--for=delete", "pod", "-l", selector, "--timeout=90s", check=False)
    return saved


def restore_operators(saved: list[tuple[str, str, int]]) -> None:
    for ns, name, replicas in saved:
        kubectl("-n", ns, "scale", f"deploy/{name}", f"--replicas={replicas}", check=False)
        print(f"capacity: {ns}/{name} scaled back to {replicas}")


def install(values: list[str]) -> None:
    state = pathlib.Path(kubeconfig()).parent
    if not (state / "image-operator").exists():
        raise SystemExit("capacity: no operator image loaded on the node: run `make images` first")
    if kubectl("get", "crd", "workflowruns.updraft.dev", "--ignore-not-found", "-o", "name").strip() == "":
        kubectl("apply", "--server-side", "-f", str(TOP / "crds"))
    # a previous run's namespaces may still be terminating: helm cannot install into them
    kubectl("wait", "--for=delete", f"namespace/{RUN_NS}", f"namespace/{RELEASE_NS}", "--timeout=300s", check=False)
    kubectl("create", "namespace", RUN_NS, check=False)
    helm("upgrade", "--install", RELEASE, str(TOP / "charts/updraft"), "-n", RELEASE_NS, "--create-namespace",
         "-f", str(CLUSTER / "local-values.yaml"),
         "--set", "rbac.scope=namespaced", "--set", f"rbac.watchNamespace={RUN_NS}",
         "--set", "crds.install=false", "--set", "api.enabled=false",
         "--set-string", f"operator.podAnnotations.updraft\\.dev/operator-image={(state / 'image-operator').read_text().strip()}",
         "--set-json", 'runner.nodeSelector={"type":"kwok"}',
         "--set-json", 'runner.tolerations=[{"key":"kwok.x-k8s.io/node","operator":"Exists","effect":"NoSchedule"}]',
         *values, "--wait", "--timeout", "3m")


def uninstall(wait: bool = False) -> None:
    """Remove the release first (nothing then works on our objects), then the objects it left: its
    finalizers are dropped in parallel (thousands of runs), and the namespaces deleted (waited
    for with `wait`, before a fresh install)."""
    sh(str(BIN / "helm"), "--kubeconfig", kubeconfig(), "uninstall", RELEASE, "-n", RELEASE_NS, "--wait", check=False)
    asyncio.run(_drop_finalizers())
    kubectl("delete", "namespace", RUN_NS, RELEASE_NS, f"--wait={'true' if wait else 'false'}", "--timeout=300s",
            "--ignore-not-found", check=False)


async def _drop_finalizers() -> None:
    from kubernetes_asyncio import client, config
    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig(), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        custom, sem = client.CustomObjectsApi(api), asyncio.Semaphore(32)

        async def drop(plural: str, name: str) -> None:
            async with sem:
                try:
                    await custom.patch_namespaced_custom_object(GROUP, VERSION, RUN_NS, plural, name,
                                                                {"metadata": {"finalizers": None}},
                                                                _content_type="application/merge-patch+json")
                except client.ApiException:
                    pass

        for plural in ("workflowruns", "workflows", "workflowversions"):
            try:
                items = (await custom.list_namespaced_custom_object(GROUP, VERSION, RUN_NS, plural))["items"]
            except client.ApiException:
                continue
            await asyncio.gather(*(drop(plural, o["metadata"]["name"]) for o in items
                                   if o["metadata"].get("finalizers")))


def proc_rss_mb(pod_uid: str) -> float | None:
    """RSS of the largest non-pause process in the pod's cgroup on this host (the operator)."""
    keys = {pod_uid, pod_uid.replace("-", "_")}
    best = None
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not any(k in (proc / "cgroup").read_text() for k in keys) or (proc / "comm").read_text().strip() == "pause":
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    mb = int(line.split()[1]) / 1024
                    best = mb if best is None or mb > best else best
        except OSError:
            continue
    return best
