"""The side-by-side benchmark's pure parts (bench/peers): the shapes, the objects each system gets
for them, the figures, and the /proc parsing. (The benchmark itself runs with `make bench-peers`.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[3] / "bench" / "peers"))

import peer_figures as figures  # noqa: E402
import peer_manifests as manifests  # noqa: E402
import peer_procstats as procstats  # noqa: E402
import peer_shapes as shapes  # noqa: E402


def test_shapes_have_the_sizes_and_depths_the_figures_divide_by():
    assert (len(shapes.single().tasks), shapes.single().depth) == (1, 1)
    assert (len(shapes.diamond().tasks), shapes.diamond().depth) == (4, 3)
    assert (len(shapes.chain(10).tasks), shapes.chain(10).depth) == (10, 10)
    fan = shapes.fanout(50)
    assert (len(fan.tasks), fan.depth) == (52, 3)
    assert len(fan.upstream["end"]) == 50
    assert fan.downstream()["start"] == tuple(f"w{i:02d}" for i in range(50))


def test_levels_follow_the_deepest_upstream():
    s = shapes.Shape("skew", {"a": (), "b": ("a",), "c": ("b",), "d": ("a", "c")})
    assert s.levels() == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        shapes.Shape("loop", {"a": ("b",), "b": ("a",)}).levels()


def test_pick_keeps_the_order_and_refuses_unknown_names():
    assert [s.name for s in shapes.pick("chain10, single,")] == ["chain10", "single"]
    with pytest.raises(ValueError, match="unknown shape 'star'"):
        shapes.pick("single,star")


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_updraft_definition_is_valid_and_has_the_shape(name):
    from updraft.definition import validate

    shape = shapes.SHAPES[name]
    result = validate(manifests.updraft_definition(shape))
    assert result.graph is not None, result
    assert {t: set(task.upstream) for t, task in result.graph.tasks.items()} == \
        {t: set(ups) for t, ups in shape.upstream.items()}


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_argo_workflow_has_the_shape_and_the_same_pod_resources(name):
    shape = shapes.SHAPES[name]
    wf = manifests.argo_workflow(shape, "r1")
    main, work = wf["spec"]["templates"]
    assert {t["name"]: set(t.get("dependencies", ())) for t in main["dag"]["tasks"]} == \
        {t: set(ups) for t, ups in shape.upstream.items()}
    assert all(t["template"] == "work" for t in main["dag"]["tasks"])
    container = work["container"]
    assert container["command"] == manifests.WORK["airflow"]  # always given: no registry look-up
    assert container["image"] == manifests.RUNNER_IMAGE and container["imagePullPolicy"] == "Never"
    assert container["resources"] == manifests.TASK_RESOURCES
    assert wf["spec"]["podGC"] == {"strategy": "OnWorkflowCompletion"}
    assert manifests.argo_workflow(shape, "r1", work="noop")["spec"]["templates"][1]["container"]["command"] == ["true"]


def test_task_resources_match_the_charts_defaults():
    import yaml

    values = yaml.safe_load((Path(__file__).parents[3] / "charts" / "updraft" / "values.yaml").read_text())
    assert values["runner"]["resources"] == manifests.TASK_RESOURCES


def test_run_figures_of_a_successful_run():
    obs = figures.RunObservation("x", "chain10", triggered=100.0, finished=130.0, state="success",
                                 pods_created=[102.5, 101.5, 110.0])
    figs = figures.run_figures(obs, depth=10, task_s=1.0)
    assert figs == {"makespan_s": 30.0, "overhead_s": 20.0, "overhead_per_level_s": 2.0, "first_start_s": 1.5}


def test_a_failed_or_unfinished_run_gives_no_figures():
    assert figures.run_figures(figures.RunObservation("x", "s", 1.0, 5.0, "failed"), depth=1) == {}
    assert figures.run_figures(figures.RunObservation("x", "s", 1.0, None, "timeout"), depth=1) == {}


def test_summary_counts_attempts_and_gives_nearest_rank_percentiles():
    runs = [{"makespan_s": float(x)} for x in (5, 1, 4, 2, 3)]
    s = figures.summarize(runs, attempted=6)
    assert s == {"runs": 6, "succeeded": 5, "makespan_p50_s": 3.0, "makespan_p99_s": 5.0,
                 "makespan_min_s": 1.0, "makespan_max_s": 5.0}
    assert figures.summarize([], attempted=2) == {"runs": 2, "succeeded": 0}


def test_ratio_is_peer_over_updraft():
    assert figures.ratio(2.0, 5.0) == 2.5
    assert figures.ratio(None, 5.0) is None and figures.ratio(2.0, None) is None and figures.ratio(0.0, 1.0) is None


def test_proc_stat_cpu_counts_fields_after_the_last_parenthesis():
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    text = "42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 0 0\n"
    assert procstats.parse_stat(text, clk_tck=100) == 3.0


def test_proc_status_rss():
    assert procstats.parse_rss_kb("Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t  2048 kB\n") == 2048
    assert procstats.parse_rss_kb("Name:\tkthread\n") == 0


def test_find_pids_needs_every_needle(tmp_path):
    for pid, cmd in ((10, b"python\0-m\0updraft\0operator\0run\0"), (11, b"updraft\0api\0serve\0"), (12, b"")):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(cmd)
    (tmp_path / "self").mkdir()
    assert procstats.find_pids("updraft", "operator", proc=tmp_path) == [10]


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_airflow_dag_file_builds_the_shape(name):
    pytest.importorskip("airflow.sdk")
    shape = shapes.SHAPES[name]
    scope: dict[str, object] = {}
    exec(compile(manifests.airflow_dag(shape), f"{name}.py", "exec"), scope)  # noqa: S102 - our own rendering
    dag = scope["t"]["t0" if "t0" in shape.upstream else next(iter(shape.upstream))].dag
    assert dag.dag_id == manifests.dag_id(shape) and dag.is_paused_upon_creation is False
    assert {t.task_id: set(t.upstream_task_ids) for t in dag.tasks} == {t: set(u) for t, u in shape.upstream.items()}


def test_airflow_pod_template_replaces_the_entrypoint_and_mounts_the_dags():
    pod = manifests.airflow_pod_template("http://192.0.2.2:8080/execution/", "/srv/dags")
    base = pod["spec"]["containers"][0]
    assert base["name"] == "base" and base["command"] == ["/usr/bin/env"] and "args" not in base
    assert {"name": "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "value": "http://192.0.2.2:8080/execution/"} in base["env"]
    assert pod["spec"]["volumes"][0]["hostPath"]["path"] == "/srv/dags"
    assert base["resources"] == manifests.TASK_RESOURCES


def test_airflow_worker_has_a_user_name():
    """The runner image's uid has no passwd entry; Airflow's worker refuses to start a task without
    a user name (getpass reads USER), so every task failed before the template set it."""
    base = manifests.airflow_pod_template("http://192.0.2.2:8080/execution/", "/srv/dags")["spec"]["containers"][0]
    assert {"name": "USER", "value": "airflow"} in base["env"]


def test_table_gives_each_peers_ratio_to_updraft(tmp_path):
    import run

    fig = {"runs": 5, "succeeded": 5, "makespan_p50_s": 10.0, "makespan_min_s": 9.0, "makespan_max_s": 12.0}
    doc = {"updraft": {"chain10": fig, "control_plane": {"controller": {"cpu_s": 3.0, "rss_peak_mb": 150.0}}},
           "argo": {"chain10": {**fig, "makespan_p50_s": 25.0}}}
    text = run.table(doc)
    assert "x2.50" in text and "10.00 (9.0-12.0) [5]" in text
    out = tmp_path / "peers.json"
    run.merge({"argo": doc["argo"]}, out)
    merged = run.merge({"updraft": doc["updraft"]}, out)
    assert set(merged) == {"argo", "updraft"}  # one system's series keeps the others' figures
