"""`updraft workflow ...` and `updraft run ...` as a user runs them: the CLI as a process, talking
through boto3 to a real `updraft api serve` process (SigV4 keys, policies, audit) over the local
cluster, where the real operator runs the workflows (busybox stand-in tasks: ok* succeed, fail*
fail, slow* sleep). Definitions come from a moto S3 server, as in test_api_lifecycle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from operator_harness import OperatorProcess, _free_port
from test_api_lifecycle import ADMIN, READER, REGION, ROLE, ApiProcess, client, poll, s3_put

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(420)]

ETL = """
daily_etl:
  schedule: None
  tasks:
    ok_extract: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    ok_load: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_extract]}
"""
NIGHTLY = """
nightly:
  schedule: "30 2 * * *"
  timezone: Europe/Paris
  tasks:
    ok_only: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""
FLAKY = """
flaky:
  schedule: None
  tasks:
    ok_first: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    fail_second: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_first], retries: 0}
    ok_never: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [fail_second]}
"""
SLOW = """
slow:
  schedule: None
  tasks:
    slow_task: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""


class Cli:
    """Runs `updraft ...` as a separate process with a user's environment (no AWS_ENDPOINT_URL:
    only the API's endpoint, given the way a user gives it)."""

    def __init__(self, url: str, key: tuple[str, str] = ADMIN) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "UPDRAFT_ENDPOINT"))}
        self.env.update({"UPDRAFT_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1],
                         "AWS_REGION": REGION, "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
                         "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
                 argv0: list[str] | None = None) -> subprocess.CompletedProcess[str]:
        cmd = (argv0 or [sys.executable, "-m", "updraft.cli"]) + list(args)
        done = subprocess.run(cmd, env=env if env is not None else self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert "Traceback" not in done.stderr, done.stderr
        return done


def _ok(done: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert done.returncode == code, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def api_server(moto_s3: str, operator: OperatorProcess, kubeconfig: str, namespace: str, tmp_path: Path) -> Any:
    server = ApiProcess(kubeconfig, namespace, tmp_path, moto_s3)
    yield server
    server.stop()
    print(f"--- api.log ---\n{server.log.read_text()[-4000:]}")


def _create(server: ApiProcess) -> dict[str, str]:
    mwaa = client(server)
    arns = {}
    for name, text, mode, tags in (("Daily_ETL", ETL, "manual_only", {"team": "data"}),
                                   ("nightly", NIGHTLY, "scheduled", {"team": "web"}),
                                   ("flaky", FLAKY, "manual_only", {"team": "data"}),
                                   ("slow", SLOW, "manual_only", {"team": "data"})):
        s3_put("defs", f"{name}.yaml", text)
        arns[name] = mwaa.create_workflow(Name=name, DefinitionS3Location={"Bucket": "defs", "ObjectKey": f"{name}.yaml"},
                                          RoleArn=ROLE, TriggerMode=mode, Tags=tags)["WorkflowArn"]
    for arn in arns.values():
        _ready(server, arn)
    return arns


def _ready(server: ApiProcess, arn: str) -> None:
    """CreateWorkflow waits a few seconds for the operator's first version; on a busy machine the
    version can come later (StartWorkflowRun then says so: ConflictException, try again)."""
    poll(lambda: client(server).get_workflow(WorkflowArn=arn), lambda w: "WorkflowVersion" in w, timeout=60,
         what=f"a version of {arn}")


async def test_workflows_and_runs_from_the_command_line(api_server: ApiProcess) -> None:
    from updraft.schedule import fire_times, parse

    arns = _create(api_server)
    cli = Cli(api_server.url)

    # workflow list: a table, names, JSON
    table = _ok(cli("workflow", "list")).splitlines()
    assert table[0].split() == ["NAME", "TRIGGER", "STATUS", "VERSION", "MODIFIED"]
    assert [ln.split()[:3] for ln in table[1:]] == [["Daily_ETL", "manual_only", "READY"], ["flaky", "manual_only", "READY"],
                                                    ["nightly", "scheduled", "READY"], ["slow", "manual_only", "READY"]]
    assert _ok(cli("workflow", "list", "-o", "name")).split() == ["Daily_ETL", "flaky", "nightly", "slow"]
    assert {w["Name"]: w["WorkflowArn"] for w in json.loads(_ok(cli("workflow", "list", "-o", "json")))} == arns

    # workflow get: the next fire times, computed by the schedule code from the cron and the definition's zone
    before = datetime.now(timezone.utc)
    got = json.loads(_ok(cli("workflow", "get", "nightly", "-o", "json", "--count", "3")))
    after = datetime.now(timezone.utc)
    expected = [[t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in fire_times(parse("30 2 * * *", "Europe/Paris"), at, 3)]
                for at in (before, after)]
    assert got["Schedule"]["CronExpression"] == "30 2 * * *" and got["Schedule"]["Timezone"] == "Europe/Paris"
    assert got["Schedule"]["NextFireTimes"] in expected and got["WorkflowArn"] == arns["nightly"]
    text = _ok(cli("workflow", "get", arns["nightly"]))
    assert "30 2 * * * (Europe/Paris)" in text and "Next fire times:" in text
    assert sum(1 for ln in text.splitlines() if ln.startswith("  20") and ln.rstrip().endswith(("CET", "CEST"))) == 5
    assert "none (no schedule" in _ok(cli("workflow", "get", "Daily_ETL"))
    assert "ok_extract" in _ok(cli("workflow", "get", "Daily_ETL", "--definition"))

    # run start --wait: exit 0 on SUCCESS; the parameters reach the run, typed with :=
    out = _ok(cli("run", "start", "Daily_ETL", "-p", "day=monday", "-p", "n:=3", "--wait", "--poll-interval", "0.5"))
    first, last = out.splitlines()[0], out.splitlines()[-1]
    assert first.startswith("run ") and first.endswith(" of workflow Daily_ETL started (STARTING)")
    run_id = first.split()[1]
    assert last.startswith(f"run {run_id} ended SUCCESS")
    detail = json.loads(_ok(cli("run", "get", "Daily_ETL", run_id, "-o", "json")))
    assert detail["OverrideParameters"] == {"day": "monday", "n": 3} and detail["RunDetail"]["RunState"] == "SUCCESS"
    assert sorted((t["TaskId"], t["Status"], t["AttemptNumber"]) for t in detail["TaskInstances"]) == [
        ("ok_extract", "SUCCESS", 1), ("ok_load", "SUCCESS", 1)]
    tasks = _ok(cli("run", "get", "Daily_ETL", run_id)).splitlines()
    header = next(i for i, ln in enumerate(tasks) if ln.startswith("TASK "))
    assert [ln.split()[:3] for ln in tasks[header + 1:]] == [["ok_extract", "SUCCESS", "1"], ["ok_load", "SUCCESS", "1"]]
    assert _ok(cli("run", "list", "Daily_ETL", "-o", "name")).split() == [run_id]
    assert _ok(cli("run", "list", "Daily_ETL")).splitlines()[1].split()[:3] == [run_id, "SUCCESS", "ON_DEMAND"]

    # run start --watch: one line per state change, exit 1 when the run fails, the failed task's error shown
    watched = cli("run", "start", "flaky", "--watch", "--poll-interval", "0.3")
    out = _ok(watched, 1)
    lines = out.splitlines()
    flaky_id = lines[0].split()[1]
    changes = [ln.split(None, 1)[1] for ln in lines if ln[:2].isdigit() and ln[8:9] == "Z"]
    assert any(c.startswith("task ok_first ") and c.endswith("-> SUCCESS") for c in changes), out
    failed = next(c for c in changes if c.startswith("task fail_second ") and "-> FAILED" in c)
    assert "(attempt 1)" in failed
    assert changes[-1] == f"run {flaky_id}  RUNNING -> FAILED", out
    assert changes.index(failed) < len(changes) - 1  # the task's failure before the run's
    assert f"run {flaky_id} ended FAILED" in out
    assert any(ln.split()[:3] == ["fail_second", "FAILED", "1"] for ln in lines), out
    assert any(ln.split()[:2] == ["ok_never", "UPSTREAM_FAILED"] for ln in lines), out
    jsonl = _ok(cli("run", "start", "flaky", "--watch", "--poll-interval", "0.3", "-o", "json"), 1)
    events = [json.loads(ln) for ln in jsonl.splitlines()]
    assert events[0]["Event"] == "RunStarted" and events[-1]["Event"] == "RunEnded"
    assert events[-1]["RunDetail"]["RunState"] == "FAILED"
    assert {(e["TaskId"], e["To"]) for e in events if e["Event"] == "StateChanged"} >= {
        ("fail_second", "FAILED"), ("ok_first", "SUCCESS"), (None, "FAILED")}

    # a long run: wait with a timeout (exit 6, it goes on), stop it (twice: idempotent), wait for its end (exit 1)
    slow_id = _ok(cli("run", "start", "slow", "-o", "name")).strip()
    timed_out = cli("run", "wait", "slow", slow_id, "--timeout", "2s", "--poll-interval", "0.2")
    assert timed_out.returncode == 6 and "(--timeout); it goes on" in timed_out.stderr
    assert _ok(cli("run", "stop", "slow", slow_id)).strip() in (f"run {slow_id} is STOPPING",
                                                                 f"run {slow_id} had already ended STOPPED; nothing to stop")
    ended = _ok(cli("run", "wait", "slow", slow_id, "--timeout", "90", "--poll-interval", "0.3"), 1)
    assert f"run {slow_id} ended STOPPED" in ended
    assert _ok(cli("run", "stop", arns["slow"], slow_id)).strip() == f"run {slow_id} had already ended STOPPED; nothing to stop"

    # every CLI call went through the API as the signed-in principal, and is in its audit trail
    events = api_server.events()
    cli_events = [e for e in events if "updraft-cli/" in (e.get("userAgent") or "")]
    assert {e["eventName"] for e in cli_events} >= {"ListWorkflows", "GetWorkflow", "StartWorkflowRun", "GetWorkflowRun",
                                                    "ListTaskInstances", "GetTaskInstance", "StopWorkflowRun",
                                                    "ListWorkflowRuns"}
    assert {e["userIdentity"]["arn"] for e in cli_events} == {"arn:aws:iam::123456789012:user/admin"}


async def test_what_goes_wrong_is_one_line_with_its_exit_code(api_server: ApiProcess, tmp_path: Path) -> None:
    arns = _create(api_server)
    cli = Cli(api_server.url)

    def fails(code: int, *args: str, env: dict[str, str] | None = None) -> str:
        done = cli(*args, env=env)
        assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
        return done.stderr.strip()

    assert fails(3, "workflow", "get", "Daily") == "updraft workflow get: unknown workflow 'Daily'; did you mean Daily_ETL?"
    assert fails(3, "run", "get", "slow", "no-such-run").startswith(
        "updraft run get: unknown run 'no-such-run' of workflow 'slow': ")
    missing = arns["slow"][:-10] + "0000000000"
    assert fails(3, "run", "list", missing).startswith(f"updraft run list: unknown workflow '{missing}': ")
    assert "is not a workflow ARN" in fails(2, "run", "list", "arn:aws:s3:::x")
    assert "-p 'x'" in fails(2, "run", "start", "slow", "-p", "x")
    assert "--timeout needs --wait" in fails(2, "run", "start", "slow", "--timeout", "5")
    no_endpoint = {k: v for k, v in cli.env.items() if k != "UPDRAFT_ENDPOINT_URL"}
    assert "no API endpoint configured" in fails(2, "workflow", "list", env=no_endpoint)
    no_keys = {k: v for k, v in cli.env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    assert "no AWS credentials found" in fails(2, "workflow", "list", env=no_keys)
    no_region = {k: v for k, v in cli.env.items() if k != "AWS_REGION"}
    assert "no region configured" in fails(2, "workflow", "list", env=no_region)
    # the API refuses: a wrong secret, an unsigned request, a principal whose policy does not allow the call
    assert "InvalidSignatureException" in fails(4, "workflow", "list", env={**cli.env, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert "MissingAuthenticationTokenException" in fails(4, "workflow", "list", "--no-sign-request")
    reader = Cli(api_server.url, READER)
    denied = reader("run", "start", "Daily_ETL")
    assert denied.returncode == 4 and denied.stderr.startswith(
        "updraft run start: StartWorkflowRun failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/reader "
        f"is not authorized to perform: airflow-serverless:StartWorkflowRun on resource: {arns['Daily_ETL']}")
    assert _ok(reader("workflow", "get", "Daily_ETL")).startswith("Name:")  # what the policy allows works
    # nothing listens there / something else answers there
    assert "cannot reach the API at http://127.0.0.1:" in fails(
        5, "workflow", "list", "--endpoint-url", f"http://127.0.0.1:{_free_port()}")
    assert "is this an Updraft API endpoint?" in fails(
        5, "workflow", "list", "--endpoint-url", f"http://127.0.0.1:{api_server.metrics_port}")


async def test_kubectl_runs_it_as_a_plugin(api_server: ApiProcess, tmp_path: Path) -> None:
    """`kubectl updraft ...` finds `kubectl-updraft` on PATH. The venv has the console script once
    the package is (re)installed; before that, the same two lines a console script holds."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is part of the local cluster's tools"
    _create(api_server)
    plugin_dir = tmp_path / "bin"
    plugin_dir.mkdir()
    installed = Path(sys.executable).with_name("kubectl-updraft")
    if installed.exists():
        (plugin_dir / "kubectl-updraft").symlink_to(installed)
    else:
        script = plugin_dir / "kubectl-updraft"
        script.write_text(f"#!{sys.executable}\nimport sys\nfrom updraft.cli import kubectl_main\nsys.exit(kubectl_main())\n")
        script.chmod(0o755)
    cli = Cli(api_server.url)
    env = {**cli.env, "PATH": f"{plugin_dir}:{os.environ['PATH']}"}
    assert "kubectl-updraft" in _ok(cli("plugin", "list", argv0=[kubectl], env=env))
    assert _ok(cli("updraft", "workflow", "list", "-o", "name", argv0=[kubectl], env=env)).split() == [
        "Daily_ETL", "flaky", "nightly", "slow"]
    helped = _ok(cli("updraft", "run", "start", "--help", argv0=[kubectl], env=env))
    assert helped.startswith("usage: kubectl updraft run start")
    bad = cli("updraft", "run", "get", "slow", "nope", argv0=[kubectl], env=env)
    assert bad.returncode == 3 and "unknown run 'nope'" in bad.stderr


async def test_a_throttling_api_slows_the_cli_down_instead_of_failing_it(moto_s3: str, operator: OperatorProcess,
                                                                          kubeconfig: str, namespace: str,
                                                                          tmp_path: Path) -> None:
    """`run get` makes one GetTaskInstance per started task; against an API limited to 3 requests a
    second (the chart's default is 20) it must still answer, slowed down, not fail."""
    fan = "fan:\n  schedule: None\n  tasks:\n" + "".join(
        f"    ok_{i:02d}: {{operator: airflow.providers.standard.operators.empty.EmptyOperator}}\n" for i in range(15))
    s3_put("defs", "fan.yaml", fan)
    (tmp_path / "roomy").mkdir()
    roomy = ApiProcess(kubeconfig, namespace, tmp_path / "roomy", moto_s3)
    try:
        arn = client(roomy).create_workflow(Name="fan", DefinitionS3Location={"Bucket": "defs", "ObjectKey": "fan.yaml"},
                                            RoleArn=ROLE, TriggerMode="manual_only")["WorkflowArn"]
        _ready(roomy, arn)
        run_id = _ok(Cli(roomy.url)("run", "start", "fan", "--wait", "--poll-interval", "1")).split()[1]
    finally:
        roomy.stop()
    (tmp_path / "tight").mkdir()
    tight = ApiProcess(kubeconfig, namespace, tmp_path / "tight", moto_s3, rate_limit=3, burst=3)
    try:
        detail = json.loads(_ok(Cli(tight.url)("run", "get", "fan", run_id, "-o", "json")))
        assert sorted(t["TaskId"] for t in detail["TaskInstances"]) == [f"ok_{i:02d}" for i in range(15)]
        throttled = [e for e in tight.events() if e.get("errorCode") == "ThrottlingException"]
        assert throttled, "the API did throttle the CLI"
    finally:
        tight.stop()
