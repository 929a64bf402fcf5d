"""The console in a real browser: Debian's Chromium driven by Playwright (its own browser download
is never used: executable_path), against a real `updraft api serve` process (SigV4 keys, policies,
audit) and the real operator on the local cluster (busybox stand-in tasks: ok* succeed, nap* sleep
6 s, slow* 600 s; each prints `task=<id> attempt=<n>`).

A person's path: sign in through a launch URL from CreateAirflowUiUrl, watch a run's graph turn
green without reloading, start a run from the form (a changed param sent as an override), read
its task's live log, stop it. The run page's screenshot is saved (tmp_path, and the file named by
UPDRAFT_CONSOLE_SCREENSHOT when set: how docs/images/console-run.png is made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from operator_harness import OperatorProcess
from test_api_lifecycle import ROLE, ApiProcess, client, poll, s3_put

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(420)]

CHROMIUM = "/usr/bin/chromium"
PIPELINE = """
pipeline:
  schedule: None
  tasks:
    nap_extract: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
    ok_clean: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [nap_extract]}
    ok_enrich: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [nap_extract]}
    ok_load: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_clean, ok_enrich]}
    ok_report: {operator: airflow.providers.standard.operators.empty.EmptyOperator, dependencies: [ok_load]}
"""
SLOW = """
slow:
  schedule: None
  params: {region: eu, batch: 100}
  tasks:
    slow_task: {operator: airflow.providers.standard.operators.empty.EmptyOperator}
"""


@pytest.fixture
def api_server(moto_s3: str, operator: OperatorProcess, kubeconfig: str, namespace: str, tmp_path: Path) -> Any:
    server = ApiProcess(kubeconfig, namespace, tmp_path, moto_s3)
    yield server
    server.stop()
    print(f"--- api.log ---\n{server.log.read_text()[-4000:]}")


def _create(server: ApiProcess, name: str, text: str) -> str:
    mwaa = client(server)
    s3_put("defs", f"{name}.yaml", text)
    arn = mwaa.create_workflow(Name=name, DefinitionS3Location={"Bucket": "defs", "ObjectKey": f"{name}.yaml"},
                               RoleArn=ROLE, TriggerMode="manual_only")["WorkflowArn"]
    poll(lambda: mwaa.get_workflow(WorkflowArn=arn), lambda w: "WorkflowVersion" in w, timeout=60, what=f"{name}'s version")
    return str(arn)


async def test_a_person_signs_in_watches_starts_reads_and_stops(api_server: ApiProcess, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: make setup installs Debian's chromium package")
    from playwright.async_api import async_playwright, expect

    pipeline, slow = _create(api_server, "pipeline", PIPELINE), _create(api_server, "slow", SLOW)
    mwaa = client(api_server)
    run_id = mwaa.start_workflow_run(WorkflowArn=pipeline)["RunId"]
    launch = mwaa.create_airflow_ui_url(ExpiresInSeconds=60)
    assert launch["AuthorizedUrl"].startswith(f"{api_server.url}/ui/launch#")
    wid = pipeline.split(":workflow/", 1)[1]

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 680})
            # sign in: the launch page posts the fragment's token; the session cookie is HttpOnly
            await page.goto(launch["AuthorizedUrl"])
            await page.wait_for_url(f"{api_server.url}/ui/")
            await expect(page.locator('tr[data-workflow="pipeline"]')).to_be_visible()
            await expect(page.locator('tr[data-workflow="slow"]')).to_be_visible()
            cookies = await page.context.cookies()
            assert [c["httpOnly"] for c in cookies if c["name"] == "updraft_console"] == [True]
            assert await page.evaluate("document.cookie") == ""  # not readable by scripts

            # watch the run's graph turn green: the page refreshes itself while the run is live
            await page.goto(f"{api_server.url}/ui/workflows/{wid}/runs/{run_id}")
            await expect(page.locator("main")).to_have_attribute("data-live", "3")  # nap_extract sleeps 6 s
            for task in ("nap_extract", "ok_clean", "ok_enrich", "ok_load", "ok_report"):
                await expect(page.locator(f'svg.graph g[data-task="{task}"]')).to_have_attribute(
                    "data-state", "SUCCESS", timeout=180_000)
            await expect(page.locator("main[data-live]")).to_have_count(0, timeout=30_000)  # final: no more refreshes
            await expect(page.locator("dl.facts")).to_contain_text("SUCCESS")
            shot = tmp_path / "console-run.png"
            await page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("UPDRAFT_CONSOLE_SCREENSHOT"):
                shutil.copyfile(shot, os.environ["UPDRAFT_CONSOLE_SCREENSHOT"])

            # the workflow page's grid shows that run; start another workflow from its form
            await page.goto(f"{api_server.url}/ui/workflows/{wid}")
            await expect(page.locator("table.grid a.cell.s-success")).to_have_count(5)
            slow_wid = slow.split(":workflow/", 1)[1]
            await page.goto(f"{api_server.url}/ui/workflows/{slow_wid}")
            await page.fill('input[name="param.batch"]', "250")
            await page.click('#start-run button[type="submit"]')
            try:
                await page.wait_for_url(f"{api_server.url}/ui/workflows/{slow_wid}/runs/*")
            except Exception:  # say what the page said instead of a bare timeout
                raise AssertionError(f"no run page after the start form: {page.url}\n{await page.inner_text('body')}") from None
            slow_run = page.url.rsplit("/", 1)[1]
            assert mwaa.get_workflow_run(WorkflowArn=slow, RunId=slow_run)["OverrideParameters"] == {"batch": 250}
            await expect(page.locator('svg.graph g[data-task="slow_task"]')).to_have_attribute(
                "data-state", "RUNNING", timeout=120_000)

            # its task's live log, with where it came from
            await page.click('table.tasks a:text("slow_task")')
            await expect(page.locator("p.source")).to_contain_text("pod ", timeout=30_000)
            await expect(page.locator("#log")).to_contain_text("task=slow_task attempt=1", timeout=60_000)

            # stop it from the run page
            await page.goto(f"{api_server.url}/ui/workflows/{slow_wid}/runs/{slow_run}")
            await page.click('#stop-run button[type="submit"]')
            await expect(page.locator("dl.facts")).to_contain_text("STOPPED", timeout=120_000)
            assert mwaa.get_workflow_run(WorkflowArn=slow, RunId=slow_run)["RunDetail"]["RunState"] == "STOPPED"
        finally:
            await browser.close()

    # what the person did is in the audit trail, as the MWAA operations, under their identity
    events = [e for e in api_server.events() if (e.get("additionalEventData") or {}).get("console")]
    names = {e["eventName"] for e in events}
    assert {"ListWorkflows", "GetWorkflowRun", "ListTaskInstances", "GetTaskInstance", "StartWorkflowRun",
            "StopWorkflowRun"} <= names
    assert all(e["userIdentity"]["arn"].endswith(":user/admin") for e in events)
