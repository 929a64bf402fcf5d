"""Updraft and Argo on KWOK's simulated pods (bench/peers/peer_kwok.py): the pure parts. The Stage
documents kwok.sh writes (`kwok.sh stages` needs no cluster), the Argo run with its placement, the
capacity benchmark's arguments both systems get, and the figures' entry in peers.json."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TOP = Path(__file__).parents[3]
sys.path.insert(0, str(TOP / "bench" / "peers"))

import peer_kwok  # noqa: E402
import peer_manifests as manifests  # noqa: E402
from peer_shapes import single  # noqa: E402

# Argo v3.7.18, workflow/common/common.go: what its controller reads off pods and task results
NODE_ID = "workflows.argoproj.io/node-id"
WORKFLOW = "workflows.argoproj.io/workflow"
OUTPUTS_COMPLETED = "workflows.argoproj.io/report-outputs-completed"


def stages(task_ms: int = 1000) -> dict[str, dict[str, Any]]:
    env = {**os.environ, "KWOK_TASK_MS": str(task_ms)}
    text = subprocess.run(["bash", str(TOP / "hack" / "cluster" / "kwok.sh"), "stages"], check=True,
                          capture_output=True, text=True, env=env).stdout
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(text) if d and d["kind"] == "Stage"}


def keys(stage: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {e["key"]: (e["operator"], tuple(e.get("values", ())))
            for e in stage["spec"]["selector"]["matchExpressions"]}


def test_argo_pods_end_after_the_task_time_once_running():
    argo = stages(task_ms=250)["argo-pod-complete"]
    assert argo["spec"]["resourceRef"] == {"apiGroup": "v1", "kind": "Pod"}
    assert argo["spec"]["delay"] == {"durationMilliseconds": 250}
    assert keys(argo) == {".metadata.deletionTimestamp": ("DoesNotExist", ()),
                          ".status.phase": ("In", ("Running",)),
                          f'.metadata.labels["{WORKFLOW}"]': ("Exists", ()),
                          f'.metadata.annotations["{NODE_ID}"]': ("Exists", ())}
    assert "next" not in argo["spec"]  # kwok ignores `next` once `steps` is given


def test_argo_stage_writes_the_task_result_first_then_the_pods_status():
    apply, patch = stages()["argo-pod-complete"]["spec"]["steps"]
    assert list(apply) == ["apply"] and list(patch) == ["patch"]
    template = apply["apply"]["template"]
    assert "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTaskResult\n" in template
    assert f'name: {{{{ index .metadata.annotations "{NODE_ID}" | Quote }}}}' in template
    assert f'{WORKFLOW}: {{{{ index .metadata.labels "{WORKFLOW}" | Quote }}}}' in template
    assert f'{OUTPUTS_COMPLETED}: "true"' in template
    # owned by the pod's Workflow, as the executor's own task results are: deleted with it
    assert '{{ if eq .kind "Workflow" }}' in template and "uid: {{ .uid | Quote }}" in template
    assert patch["patch"]["subresource"] == "status" and patch["patch"]["root"] == "status"


def test_argo_and_updraft_pods_end_with_the_same_status_but_the_runners_report():
    s = stages()
    argo = s["argo-pod-complete"]["spec"]["steps"][1]["patch"]["template"]
    updraft = s["pod-complete"]["spec"]["next"]["statusTemplate"]
    assert "exitCode: 0" in argo and "phase: Succeeded" in argo
    assert argo == updraft.replace("""message: '{"state":"success"}'""", "message: ''")


def test_updraft_stages_still_match_only_updraft_pods():
    s = stages()
    for name in ("pod-complete", "chaos-fail", "chaos-flaky-first", "chaos-flaky-again", "chaos-slow"):
        assert keys(s[name])['.metadata.labels["updraft.dev/run"]'] == ("Exists", ())
        assert s[name]["spec"]["next"]["statusTemplate"]  # unchanged form: no steps
    assert keys(s["pod-complete"])['.metadata.labels["updraft.dev/task"]'][0] == "NotIn"
    assert set(s) == {"node-initialize", "node-heartbeat", "pod-ready", "pod-complete", "chaos-fail",
                      "chaos-flaky-first", "chaos-flaky-again", "chaos-slow", "argo-pod-complete", "pod-delete"}


def test_argo_run_is_the_one_task_workflow_placed_on_the_fake_nodes():
    wf = peer_kwok.argo_run("s-000001")
    assert wf["metadata"]["name"] == "s-000001"
    assert wf["spec"]["nodeSelector"] == {"type": "kwok"}
    assert wf["spec"]["tolerations"] == [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
    assert wf["spec"]["podGC"] == {"strategy": "OnWorkflowCompletion"}  # as on real pods
    assert [t["name"] for t in wf["spec"]["templates"][0]["dag"]["tasks"]] == ["t0"]
    plain = manifests.argo_workflow(single(), "s-000001", "noop")
    assert {k: v for k, v in wf["spec"].items() if k not in manifests.KWOK_PLACEMENT} == plain["spec"]


def test_argo_placement_is_the_one_the_capacity_bench_gives_updraft():
    import capacity_cluster  # bench/ is on the path once peer_kwok is imported

    source = inspect.getsource(capacity_cluster.install)
    nodes = json.dumps(manifests.KWOK_PLACEMENT["nodeSelector"], separators=(",", ":"))
    tolerations = json.dumps(manifests.KWOK_PLACEMENT["tolerations"], separators=(",", ":"))
    assert f"runner.nodeSelector={nodes}" in source and f"runner.tolerations={tolerations}" in source


@pytest.mark.parametrize("phase", peer_kwok.PHASES)
def test_capacity_arguments_run_one_phase_with_no_quota_in_the_way(phase, tmp_path):
    import capacity

    argv = peer_kwok.capacity_argv(phase, rate=600, duration=120, drain_runs=1000, out=tmp_path / "x.json")
    args = capacity.parse_args(argv)
    assert (args.rate > 0 and args.duration > 0) == (phase == "sustained")
    assert bool(args.drain_runs) == (phase == "drain")
    assert (args.soak_runs, args.schedule_workflows, args.api_runs) == (0, "", 0)
    if phase == "sustained":
        assert (args.rate, args.duration, args.warmup) == (600, 120, 30)
    sets = dict(kv.split("=", 1) for kv in args.set)
    # never a run held QUEUED by policy: room for every run of a drain, in the cluster and per workflow
    assert int(sets["quotas.maxConcurrentRuns"]) >= 1000
    assert int(sets["quotas.maxActiveRunsPerWorkflow"]) == args.max_active_runs
    assert args.max_active_runs * args.workflows >= 1000
    assert args.out == tmp_path / "x.json" and not args.smoke and args.task_ms == 1000


def test_an_unknown_phase_is_refused(tmp_path):
    with pytest.raises(ValueError, match="soak"):
        peer_kwok.capacity_argv("soak", 600, 120, 1000, tmp_path / "x.json")


def test_kwok_entry_names_the_figures_the_issue_asks_for():
    sustained = {"offered_per_minute": 600, "runs_per_minute": 421.456, "latency_p50_s": 2.3449, "latency_p99_s": 9.87,
                 "finished": 1200, "runs": 1200, "errors": ["x"], "args": {"rate": 600}}
    drain = {"runs": 1000, "drain_s": 156.8, "finished": 1000, "create_s": 10.7}
    entry = peer_kwok.kwok_entry({"sustained": sustained, "drain": drain})
    assert entry["runs_per_minute"] == 421.46 and entry["run_latency_p50_s"] == 2.34
    assert entry["run_latency_p99_s"] == 9.87 and entry["offered_per_minute"] == 600
    assert entry["drain_1000_s"] == 156.8 and entry["drain_finished"] == "1000/1000"
    assert entry["sustained"] == {"offered_per_minute": 600, "finished": 1200, "runs": 1200}  # no run lists
    assert entry["drain"] == {"runs": 1000, "finished": 1000, "create_s": 10.7}


def test_a_drain_that_did_not_finish_has_no_time():
    entry = peer_kwok.kwok_entry({"drain": {"runs": 1000, "drain_s": None, "finished": 640}})
    assert entry["drain_1000_s"] is None and entry["drain_finished"] == "640/1000"
    assert "runs_per_minute" not in entry


def test_merge_keeps_the_real_pod_figures_and_an_earlier_phase():
    doc: dict[str, Any] = {"argo": {"single": {"runs": 5}}, "updraft": {"kwok": {"runs_per_minute": 400.0}}}
    peer_kwok.merge_kwok(doc, "argo", {"runs_per_minute": 250.0})
    peer_kwok.merge_kwok(doc, "updraft", {"drain_1000_s": 150.0})
    peer_kwok.merge_kwok(doc, "argo_tuned", {"drain_1000_s": None})
    assert doc == {"argo": {"single": {"runs": 5}, "kwok": {"runs_per_minute": 250.0}},
                   "updraft": {"kwok": {"runs_per_minute": 400.0, "drain_1000_s": 150.0}},
                   "argo_tuned": {"kwok": {"drain_1000_s": None}}}


def test_argo_workflow_phases_become_capacitys_final_states():
    import capacity

    bench = peer_kwok.ArgoBench.__new__(peer_kwok.ArgoBench)  # no API client: only the ledger
    bench.ledger = capacity.Ledger()
    for name, phase in (("a", "Succeeded"), ("b", "Failed"), ("c", "Error"), ("d", "Running"), ("e", "")):
        bench._seen({"metadata": {"name": name}, "status": {"phase": phase} if phase else {}}, now=10.0)
    bench._seen({"metadata": {"name": "a"}, "status": {"phase": "Succeeded"}}, now=99.0)  # the first sight counts
    assert bench.ledger.done == {"a": (10.0, "SUCCESS"), "b": (10.0, "FAILED"), "c": (10.0, "FAILED")}


def test_pods_are_counted_once_on_the_node_they_were_last_seen_on():
    assert peer_kwok.pods_by_node({"p1": "kwok-node-1", "p2": "kwok-node-0", "p3": "", "p4": "kwok-node-1"}) == \
        {"(unscheduled)": 1, "kwok-node-0": 1, "kwok-node-1": 2}


def test_a_real_pod_series_keeps_a_systems_kwok_figures(tmp_path):
    import run

    out = tmp_path / "peers.json"
    out.write_text(json.dumps({"argo": {"single": {"runs": 1}, "kwok": {"runs_per_minute": 300.0}}}))
    merged = run.merge({"argo": {"single": {"runs": 5}}, "updraft": {"single": {"runs": 5}}}, out)
    assert merged == {"argo": {"single": {"runs": 5}, "kwok": {"runs_per_minute": 300.0}},
                      "updraft": {"single": {"runs": 5}}}
