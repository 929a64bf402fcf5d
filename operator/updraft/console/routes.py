"""The console's HTTP side, served by the API process under /ui (thin: pages.py builds the HTML).

Who is looking: with authentication (the API's --credentials), the session cookie a launch URL
gave (sessions.py), checked against its expiry and the address that opened it; without
(--insecure-no-auth), the API's anonymous caller. Every page reads through the MWAA operations
it amounts to (`ApiServer.invoke`: the caller's policies, metrics, one audit event each), and
what the policies deny is left out (a hidden Start or Stop button, a note in place of a row).
Actions are POSTs that must carry the session's CSRF token and, when the browser sends one, an
Origin of this server."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web

from updraft import arns
from updraft.api.credentials import Principal
from updraft.api.errors import ApiError
from updraft.api.events import run_events
from updraft.api.server import ApiServer, anonymous
from updraft.console import pages
from updraft.console.graph import graph_layout, render
from updraft.console.layout import Layout
from updraft.console.params import parse_form_parameters
from updraft.console.sessions import SessionStore, csrf_ok
from updraft.definition.model import TaskGraph
from updraft.model import names
from updraft.schedule import ScheduleError, fire_times, parse

log = logging.getLogger("updraft.console")

COOKIE = "updraft_console"
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript", "favicon.svg": "image/svg+xml",
                "LICENSE": "text/plain"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
GRAPH_CACHE = 128  # laid-out versions kept (immutable, so never stale)
GRID_RUNS, CELL_RUNS, PAGE = 25, 10, 50


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    frame: pages.Frame
    audit: dict[str, Any]  # what each audit event says about the console session


class Console:
    def __init__(self, server: ApiServer, store: SessionStore, public_url: str | None = None) -> None:
        self.server, self.service, self.store = server, server.service, store
        self.public_url = public_url.rstrip("/") if public_url else None
        self.local_csrf = secrets.token_urlsafe(24)  # without authentication: one per process
        self.graphs: OrderedDict[tuple[str, str], tuple[TaskGraph, Layout]] = OrderedDict()

    def mount(self, app: web.Application) -> None:
        self.server.launcher = self.launch
        r = app.router
        r.add_get("/ui", self.home)
        r.add_get("/ui/", self.workflows)
        r.add_get("/ui/launch", self.launch_page)
        r.add_post("/ui/session", self.sign_in)
        r.add_post("/ui/logout", self.sign_out)
        r.add_get("/ui/static/{name}", self.static)
        r.add_get("/ui/workflows/{wid}", self.workflow)
        r.add_post("/ui/workflows/{wid}/runs", self.start_run)
        r.add_get("/ui/workflows/{wid}/runs/{run}", self.run)
        r.add_post("/ui/workflows/{wid}/runs/{run}/stop", self.stop_run)
        r.add_get("/ui/workflows/{wid}/runs/{run}/tasks/{task}", self.task)
        r.add_route("*", "/ui/{tail:.*}", self.not_found)

    async def not_found(self, request: web.Request) -> web.Response:
        return html(pages.bare_page("Not found", f'<p>There is no console page at {pages.e(request.path[:200])}.</p>'
                                    '<p><a href="/ui/">All workflows</a></p>'), 404)

    async def home(self, request: web.Request) -> web.Response:
        return see_other("/ui/")

    # -- sessions --------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.server.config.clock()

    async def launch(self, request: web.Request, principal: Principal, params: dict[str, Any]) -> dict[str, Any]:
        """CreateAirflowUiUrl: a single-use launch URL for the caller (the token in the fragment,
        which browsers send to no server and keep out of Referer headers)."""
        made = self.store.launch(principal, self.now(), int(params.get("ExpiresInSeconds") or 300),
                                 int(params.get("SessionDurationInSeconds") or 43200))
        scheme = "https" if self.server.is_secure(request) else "http"
        base = self.public_url or f"{scheme}://{request.host}"
        return {"AuthorizedUrl": f"{base}/ui/launch#{made.token}", "SessionId": made.session_id,
                "UrlExpiresAt": made.url_expires_at, "SessionExpiresAt": made.session_expires_at}

    def viewer(self, request: web.Request) -> Viewer | None:
        if self.server.config.credentials is None:
            principal = anonymous(self.server.config.account_id)
            return Viewer(principal, pages.Frame(principal.arn, self.local_csrf, signed_in=False), {"auth": "none"})
        session = self.store.find(request.cookies.get(COOKIE), self.server.client_address(request), self.now())
        if session is None:
            return None
        return Viewer(session.principal, pages.Frame(session.principal.arn, session.csrf_token, signed_in=True),
                      {"sessionId": session.session_id})

    async def launch_page(self, request: web.Request) -> web.Response:
        return html(pages.launch_page())

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        client = self.server.client_address(request)
        if self.server.unauthenticated.wait(client, time.monotonic()) > 0:
            return html(pages.signed_out_page("Too many failed sign-ins from your address: wait a little."), 429)
        form = await request.post()
        redeemed = self.store.redeem(str(form.get("token") or ""), client, self.now())
        if redeemed is None:
            self.server.unauthenticated.take(client, time.monotonic())
            return html(pages.signed_out_page("This launch URL is not valid: it was used already, or it expired."), 401)
        cookie, session = redeemed
        response = see_other("/ui/")
        response.set_cookie(COOKIE, cookie, path="/ui", httponly=True, samesite="Strict",
                            secure=self.server.is_secure(request),
                            max_age=max(1, int((session.expires_at - self.now()).total_seconds())))
        return response

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        viewer = self.viewer(request)
        refused = await self.refuse_action(request, viewer)
        if refused is not None:
            return refused
        self.store.end(request.cookies.get(COOKIE))
        response = html(pages.signed_out_page("You are signed out."))
        response.del_cookie(COOKIE, path="/ui")
        return response

    async def refuse_action(self, request: web.Request, viewer: Viewer | None) -> web.Response | None:
        """Why a POST may not go on (no session, a foreign Origin, a missing or wrong CSRF token)."""
        if viewer is None:
            return html(pages.signed_out_page("Your console session has ended (or never began)."), 401)
        origin = request.headers.get("Origin")
        scheme = "https" if self.server.is_secure(request) else "http"
        if origin is not None and origin != f"{scheme}://{request.host}" and origin.rstrip("/") != self.public_url:
            return html(pages.message_page(viewer.frame, "Refused", f"A request from {origin} may not act here."), 403)
        form = await request.post()
        if not csrf_ok(viewer.frame.csrf_token, form.get("csrf")):
            return html(pages.message_page(viewer.frame, "Refused", "The form's CSRF token is missing or wrong: "
                                           "reload the page and try again."), 403)
        return None

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            return web.Response(status=404, text="not found\n")
        body = resources.files("updraft.console").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=STATIC_FILES[name],
                            headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"})

    # -- reading through the API -------------------------------------------------------------------

    async def op(self, request: web.Request, viewer: Viewer, operation: str, params: dict[str, Any],
                 read: Callable[[], Awaitable[dict[str, Any]]] | None = None) -> dict[str, Any]:
        return await self.server.invoke(request, viewer.principal, operation, params, viewer.audit, read)

    def arn(self, wid: str) -> str:
        return f"arn:{arns.PARTITION}:airflow-serverless:{self.server.config.region}:{self.server.config.account_id}:workflow/{wid}"

    async def graph(self, arn: str, version: str) -> tuple[TaskGraph, Layout]:
        """A version's graph and layout, laid out once per version (versions are immutable)."""
        key = (arn, version)
        if key in self.graphs:
            self.graphs.move_to_end(key)
            return self.graphs[key]
        graph = await self.service.version_graph(arn, version)
        self.graphs[key] = (graph, graph_layout(graph))
        while len(self.graphs) > GRAPH_CACHE:
            self.graphs.popitem(last=False)
        return self.graphs[key]

    async def graph_or_none(self, arn: str, version: str | None) -> tuple[TaskGraph, Layout] | None:
        """The graph of a version, or None when there is none (not compiled yet, or pruned)."""
        if not version:
            return None
        try:
            return await self.graph(arn, version)
        except ApiError:
            return None

    def fires(self, detail: dict[str, Any], graph: TaskGraph | None, count: int) -> tuple[str | None, str, list[datetime]]:
        cron = ((detail.get("ScheduleConfiguration") or {}).get("CronExpression") or "").strip() or None
        tz = (graph.timezone if graph is not None else None) or "UTC"
        if cron is None or detail.get("TriggerMode") not in (None, "scheduled") or detail.get("WorkflowStatus") == "DELETING":
            return cron, tz, []
        try:
            return cron, tz, fire_times(parse(cron, tz, graph.start_date if graph else None,
                                              graph.end_date if graph else None), self.now(), count)
        except (ScheduleError, OverflowError, ValueError):
            return cron, tz, []

    async def guarded(self, request: web.Request, page: Callable[[Viewer], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        viewer = self.viewer(request)
        if viewer is None:
            return html(pages.signed_out_page("Sign in to see the console."), 401)
        # one token of the principal's API rate per page or action (a page makes several calls)
        wait = self.server.limiter.take(viewer.principal.arn, time.monotonic())
        if wait > 0:
            return html(pages.message_page(viewer.frame, "Slow down", f"Too many requests: try again in {wait:.0f} s."),
                        429)
        try:
            return await page(viewer)
        except ApiError as e:
            return html(pages.message_page(viewer.frame, e.code, e.message), e.status)

    # -- pages -------------------------------------------------------------------------------------

    async def workflows(self, request: web.Request) -> web.StreamResponse:
        async def page(viewer: Viewer) -> web.StreamResponse:
            query = request.query.get("q", "").strip()[:100]
            params: dict[str, Any] = {"MaxResults": PAGE}
            if request.query.get("next"):
                params["NextToken"] = request.query["next"]
            listed = await self.op(request, viewer, "ListWorkflows", params)
            found = listed.get("Workflows") or []
            tags = await asyncio.gather(*(self.tags_of(request, viewer, w["WorkflowArn"]) for w in found))
            chosen = [(w, t) for w, t in zip(found, tags) if pages.matches(query, w.get("Name"), t)]
            rows = list(await asyncio.gather(*(self.workflow_row(request, viewer, w, t) for w, t in chosen)))
            return html(pages.workflows_page(viewer.frame, rows, query, listed.get("NextToken")))
        return await self.guarded(request, page)

    async def tags_of(self, request: web.Request, viewer: Viewer, arn: str) -> dict[str, str]:
        try:
            return dict((await self.op(request, viewer, "ListTagsForResource", {"ResourceArn": arn})).get("Tags") or {})
        except ApiError:  # not allowed to read them: the column stays empty
            return {}

    async def workflow_row(self, request: web.Request, viewer: Viewer, summary: dict[str, Any],
                           tags: dict[str, str]) -> pages.WorkflowRow:
        arn = summary["WorkflowArn"]
        wid = arn.split(":workflow/", 1)[1]
        try:
            detail = await self.op(request, viewer, "GetWorkflow", {"WorkflowArn": arn})
            found = await self.graph_or_none(arn, detail.get("WorkflowVersion"))
            graph = found[0] if found else None
            cron, tz, fires = self.fires(detail, graph, 3)
            runs = (await self.op(request, viewer, "ListWorkflowRuns", {"WorkflowArn": arn, "MaxResults": CELL_RUNS}))
        except ApiError as e:
            return pages.WorkflowRow(wid, summary, note=e.message[:160], tags=tags)
        return pages.WorkflowRow(wid, summary, cron, tz, fires, runs.get("WorkflowRuns") or [], tags=tags)

    async def workflow(self, request: web.Request) -> web.StreamResponse:
        async def page(viewer: Viewer) -> web.StreamResponse:
            wid = request.match_info["wid"]
            arn = self.arn(wid)
            params: dict[str, Any] = {"WorkflowArn": arn}
            if request.query.get("version"):
                params["WorkflowVersion"] = request.query["version"]
            detail = await self.op(request, viewer, "GetWorkflow", params)
            found = await self.graph_or_none(arn, detail.get("WorkflowVersion"))
            graph = found[0] if found else None
            cron, tz, fires = self.fires(detail, graph, 5)
            notes: list[str] = []
            runs: list[dict[str, Any]] = []
            try:
                runs = (await self.op(request, viewer, "ListWorkflowRuns", {"WorkflowArn": arn, "MaxResults": GRID_RUNS},
                                      read=lambda: self.service.runs_with_task_states(arn, GRID_RUNS)))["WorkflowRuns"]
            except ApiError as e:
                notes.append(f"Runs are not shown: {e.message}")
            versions: list[dict[str, Any]] = []
            try:
                versions = (await self.op(request, viewer, "ListWorkflowVersions",
                                          {"WorkflowArn": arn, "MaxResults": 50}))["WorkflowVersions"]
            except ApiError as e:
                notes.append(f"Versions are not shown: {e.message}")
            can_start = await self.server.allowed(request, viewer.principal, "StartWorkflowRun", {"WorkflowArn": arn})
            grid = {r["RunId"]: r.get("TaskStates") or {} for r in runs}
            latest = runs[0]["RunId"] if runs else None
            svg = (render(found[1], grid.get(latest or "") if params.get("WorkflowVersion") is None else None)
                   if found else "<p>No valid version yet.</p>")
            return html(pages.workflow_page(viewer.frame, pages.WorkflowPage(
                wid=wid, detail=detail, cron=cron, timezone=tz, next_fires=fires, runs=runs, grid=grid,
                task_order=list(graph.tasks) if graph else [], svg=svg, versions=versions,
                params=dict(graph.params) if graph else {}, client_token=str(uuid.uuid4()),
                can_start=can_start and graph is not None, notes=notes)))
        return await self.guarded(request, page)

    async def run(self, request: web.Request) -> web.StreamResponse:
        async def page(viewer: Viewer) -> web.StreamResponse:
            wid, run_id = request.match_info["wid"], request.match_info["run"]
            arn = self.arn(wid)
            ids = {"WorkflowArn": arn, "RunId": run_id}
            run = await self.op(request, viewer, "GetWorkflowRun", ids)
            detailed = await self.server.allowed(request, viewer.principal, "GetTaskInstance",
                                                 {**ids, "TaskInstanceId": names.task_instance_id(run_id, "x")})
            tasks = (await self.op(request, viewer, "ListTaskInstances", ids,
                                   read=(lambda: self.service.task_instance_details(arn, run_id)) if detailed else None))
            items = [{**t, "TaskId": t.get("TaskId") or t["TaskInstanceId"].split(".", 1)[-1]}
                     for t in tasks.get("TaskInstances") or []]
            found = await self.graph_or_none(arn, run.get("WorkflowVersion"))
            order = {t: i for i, t in enumerate(found[0].tasks)} if found else {}
            items.sort(key=lambda t: (order.get(t["TaskId"], len(order)), t["TaskId"]))
            states = {t["TaskId"]: str(t.get("Status") or "NONE") for t in items}
            svg = (render(found[1], states, link=lambda task: pages.task_url(wid, run_id, task)) if found
                   else "<p>The run's version is not known yet, or no longer kept.</p>")
            can_stop = await self.server.allowed(request, viewer.principal, "StopWorkflowRun", ids)
            events: list[dict[str, Any]] | None = None
            try:  # read as the run they describe (GetWorkflowRun); a cluster without the right shows none
                events = (await self.op(request, viewer, "GetWorkflowRun", ids,
                                        read=lambda: run_events(self.service, arn, run_id)))["Events"]
            except ApiError as e:
                log.info("the events of run %s are not shown: %s", run_id, e.message)
            name = wid.rsplit("-", 1)[0]
            return html(pages.run_page(viewer.frame, wid, name, run, items, svg, can_stop, events))
        return await self.guarded(request, page)

    async def task(self, request: web.Request) -> web.StreamResponse:
        async def page(viewer: Viewer) -> web.StreamResponse:
            wid, run_id, task_id = request.match_info["wid"], request.match_info["run"], request.match_info["task"]
            detail = await self.op(request, viewer, "GetTaskInstance", {
                "WorkflowArn": self.arn(wid), "RunId": run_id, "TaskInstanceId": names.task_instance_id(run_id, task_id)})
            latest = int(detail.get("AttemptNumber") or 0)
            try:
                attempt = int(request.query.get("attempt") or latest)
            except ValueError:
                attempt = latest
            attempt = min(max(attempt, 1), max(latest, 1))
            if latest:  # the logs endpoint's reader: the live pod log while it runs, CloudWatch after
                source, note, text = await self.attempt_log(wid, run_id, task_id, attempt)
            else:
                source, note, text = "none", "the task has not started", ""
            return html(pages.task_page(viewer.frame, wid, wid.rsplit("-", 1)[0], run_id, detail, attempt,
                                        source, note, text))
        return await self.guarded(request, page)

    async def attempt_log(self, wid: str, run_id: str, task_id: str, attempt: int) -> tuple[str, str, str]:
        """(source, why that source, text) of one attempt's log, read as `GET /updraft/v1/logs`
        reads it (api/logs.py: plan.logs.choose_log_source); the page has already been authorized
        as GetTaskInstance, which is what that endpoint asks."""
        try:
            found = await self.server.task_logs.read({
                "WorkflowArn": self.arn(wid), "RunId": run_id,
                "TaskInstanceId": names.task_instance_id(run_id, task_id), "Attempt": attempt})
        except ApiError as e:
            return "none", e.message, ""
        source = str(found.get("Source") or "none")
        if source == "cloudwatch":
            source = f"CloudWatch Logs {found.get('LogGroup')} {found.get('LogStream')}"
        return source, str(found.get("Reason") or ""), "\n".join(found.get("Lines") or [])

    # -- actions -----------------------------------------------------------------------------------

    async def start_run(self, request: web.Request) -> web.StreamResponse:
        viewer = self.viewer(request)
        refused = await self.refuse_action(request, viewer)
        if refused is not None or viewer is None:
            return refused or web.Response(status=401)
        wid = request.match_info["wid"]
        arn = self.arn(wid)
        form = await request.post()

        async def act(v: Viewer) -> web.StreamResponse:
            detail = await self.op(request, v, "GetWorkflow", {"WorkflowArn": arn})
            found = await self.graph_or_none(arn, detail.get("WorkflowVersion"))
            overrides = parse_form_parameters({k: str(val) for k, val in form.items()}, found[0].params if found else {})
            params: dict[str, Any] = {"WorkflowArn": arn, "ClientToken": str(form.get("client_token") or uuid.uuid4())}
            if overrides:
                params["OverrideParameters"] = overrides
            started = await self.op(request, v, "StartWorkflowRun", params)
            return see_other(pages.run_url(wid, started["RunId"]))
        return await self.guarded(request, act)

    async def stop_run(self, request: web.Request) -> web.StreamResponse:
        viewer = self.viewer(request)
        refused = await self.refuse_action(request, viewer)
        if refused is not None or viewer is None:
            return refused or web.Response(status=401)
        wid, run_id = request.match_info["wid"], request.match_info["run"]

        async def act(v: Viewer) -> web.StreamResponse:
            await self.op(request, v, "StopWorkflowRun", {"WorkflowArn": self.arn(wid), "RunId": run_id})
            return see_other(pages.run_url(wid, run_id))
        return await self.guarded(request, act)


def html(text: str, status: int = 200) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                            headers=SECURITY_HEADERS)
    if len(text) > 8192:  # a 500-task graph is ~150 KB of SVG, refreshed every few seconds while live
        response.enable_compression()
    return response


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={**SECURITY_HEADERS, "Location": location})


def mount(app: web.Application, server: ApiServer, public_url: str | None = None) -> Console:
    console = Console(server, SessionStore(), public_url)
    console.mount(app)
    return console

