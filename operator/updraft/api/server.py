"""The API's HTTP server (aiohttp; thin): every request goes through the same steps, in order:

1. authenticate, the headers first, before a byte of the body is read: a SigV4 Authorization
   header naming a configured access key, within the clock skew (or an anonymous caller with
   --insecure-no-auth); then the body, at most protocol.MAX_BODY bytes (a declared or actual
   larger body is answered 413 ValidationException without reading on), and the signature over
   it. A refusal from the headers takes a token from its client address's bucket, a refusal
   after the body from the bucket of that address and access key id; an empty bucket means
   ThrottlingException before anything is read (so a correctly signed caller behind the same
   address is not held back by someone else's failures), and the audit lines of requests never
   authenticated are rate-limited, so an unauthenticated flood costs neither reads nor the audit
   trail;
2. throttle: a token bucket per principal (per client address without authentication), taken
   only once the signature is checked, so knowing an access key id does not let a caller spend
   its owner's rate;
3. decode: X-Amz-Target names the operation, the body is a JSON object at most
   protocol.MAX_DEPTH levels deep that must meet the model's input shape; a workflow ARN must be
   in this API's partition (arns.PARTITION);
4. authorize: the caller's IAM-style policies, against the ARN of the workflow found (not the
   caller's spelling of it), with the workflow's tags as aws:ResourceTag; CreateWorkflow and
   UpdateWorkflow also need iam:PassRole on their RoleArn (iam:PassedToService
   airflow-serverless.amazonaws.com);
5. run the operation over the custom resources;
6. answer in AWS JSON 1.0, count it in the metrics, and write one CloudTrail-shaped audit event,
   whatever the outcome (caller-controlled text in it bounded: audit.bounded).
An unexpected failure is logged with its traceback and answered as InternalServerException.

The console (updraft.console, mounted on the same application) goes through steps 3-6 with
`invoke`, for the principal of its session cookie, and sets `launcher`, which answers
CreateAirflowUiUrl.

TLS (1.2 or later) is the listener's (`updraft api serve --tls-cert/--tls-key`, updraft.tls);
here it is only what aws:SecureTransport reports (`_secure`)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping

import aiohttp.http_exceptions
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from updraft import arns
from updraft.api import audit, errors, model, policy, protocol, sigv4
from updraft.api import logs as task_logs
from updraft.api.logs import TaskLogs
from updraft.api.credentials import Principal
from updraft.api.errors import ApiError, FieldProblem
from updraft.api.service import Service
from updraft.guards.throttle import RateLimiter
from updraft.metrics import API_REQUEST_DURATION, API_REQUESTS

log = logging.getLogger("updraft.api")
SERVICE_PREFIX = "airflow-serverless"
READ_ONLY = ("Get", "List")
# for the aiohttp runner: a refused request's unread body is not drained (the connection closes),
# and bodies are never inflated (Content-Encoding is refused from the headers)
RUNNER_OPTIONS: Mapping[str, Any] = {"lingering_time": 0, "auto_decompress": False}
PASSES_ROLE = ("CreateWorkflow", "UpdateWorkflow")  # operations whose RoleArn needs iam:PassRole


@dataclass
class ServerConfig:
    region: str
    account_id: str
    credentials: Mapping[str, Principal] | None  # None: --insecure-no-auth
    rate_per_second: float = 20.0
    burst: int = 40
    operation_timeout_s: float = 30.0
    # requests refused before authentication, per client address: then ThrottlingException
    unauthenticated_rate_per_second: float = 1.0
    unauthenticated_burst: int = 20
    # audit events of requests never authenticated, all addresses together: the rest are counted
    # in the next event written (additionalEventData.suppressedUnauthenticatedEvents)
    audit_unauthenticated_per_second: float = 2.0
    audit_unauthenticated_burst: int = 50
    # behind a proxy or load balancer that sets them: the caller's address from X-Forwarded-For
    # and TLS from X-Forwarded-Proto; otherwise those headers are the caller's to forge, and ignored
    trust_proxy_headers: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


def anonymous(account_id: str) -> Principal:
    return Principal(access_key_id="", secret_access_key="", arn=f"arn:aws:iam::{account_id}:user/anonymous",
                     policies=None)


@web.middleware
async def aws_shaped_refusals(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """What aiohttp refuses itself (a path other than /, a method other than POST) answers in the
    AWS JSON shape too: ValidationException (unknownOperation) with aiohttp's status."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        error = errors.validation(f"{request.method} {request.path[:100]} is not an operation: the API takes "
                                  f"POST / with {protocol.TARGET_HEADER}", reason="unknownOperation")
        headers = {"Allow": e.headers["Allow"]} if "Allow" in e.headers else None
        return web.Response(status=e.status, body=json.dumps(error.body(), separators=(",", ":")).encode(),
                            content_type=protocol.CONTENT_TYPE, headers=headers)


class ApiServer:
    def __init__(self, service: Service, config: ServerConfig, audit_log: audit.AuditLog,
                 task_logs: TaskLogs | None = None) -> None:
        self.service, self.config, self.audit_log = service, config, audit_log
        self.task_logs = task_logs or TaskLogs(service)
        self.limiter = RateLimiter(config.rate_per_second, config.burst)
        self.unauthenticated = RateLimiter(config.unauthenticated_rate_per_second, config.unauthenticated_burst)
        self.audit_limiter = RateLimiter(config.audit_unauthenticated_per_second, config.audit_unauthenticated_burst)
        self.audit_suppressed = 0
        # CreateAirflowUiUrl's maker of launch URLs (the console sets it when it is mounted);
        # without one the operation is refused as before
        self.launcher: Callable[[web.Request, Principal, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=protocol.MAX_BODY + 1, middlewares=[aws_shaped_refusals])
        app.router.add_post("/", self.handle)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get(task_logs.PATH, self.handle_logs)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    def _client_ip(self, request: web.Request) -> str:
        forwarded = request.headers.get("X-Forwarded-For", "") if self.config.trust_proxy_headers else ""
        return forwarded.split(",")[0].strip() or request.remote or ""

    def _secure(self, request: web.Request) -> bool:
        if self.config.trust_proxy_headers and "X-Forwarded-Proto" in request.headers:
            return request.headers["X-Forwarded-Proto"].split(",")[0].strip().lower() == "https"
        return request.secure

    def client_address(self, request: web.Request) -> str:
        """The caller's address as the audit and throttling see it (the console binds sessions to it)."""
        return self._client_ip(request)

    def is_secure(self, request: web.Request) -> bool:
        """Whether the request came over TLS (aws:SecureTransport; the console's Secure cookie)."""
        return self._secure(request)

    def _precheck(self, request: web.Request) -> sigv4.Presented | None:
        """The headers' claim (AuthError if it fails); None without authentication configured."""
        if self.config.credentials is None:
            return None
        return sigv4.precheck(headers=request.headers, credentials=self.config.credentials, region=self.config.region,
                              now=self.config.clock(), service=SERVICE_PREFIX)

    def _refuse_early(self, request: web.Request) -> sigv4.Presented | None:
        """What is refused from the headers alone (a declared body over the limit, then
        authentication): AuthError or ApiError. Otherwise the headers' claim (None without
        authentication configured)."""
        if request.content_length is not None and request.content_length > protocol.MAX_BODY:
            raise errors.too_large(protocol.MAX_BODY)
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):  # AWS JSON bodies are sent as they are; nothing to inflate
            raise errors.validation(f"Content-Encoding {encoding[:40]!r} is not supported: send the body as it is",
                                    reason="cannotParse")
        return self._precheck(request)

    async def _read_body(self, request: web.Request) -> bytes:
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:  # chunked, or a Content-Length that lied
            raise errors.too_large(protocol.MAX_BODY) from None
        except (RequestPayloadError, aiohttp.http_exceptions.HttpProcessingError) as e:  # e.g. a broken chunk
            raise errors.validation(f"The request body could not be read: {str(e)[:200]}", reason="cannotParse") from None

    def _check_signature(self, request: web.Request, presented: sigv4.Presented | None, body: bytes) -> Principal:
        if presented is None:
            return anonymous(self.config.account_id)
        return sigv4.check_signature(presented, method=request.method, path=request.raw_path.split("?", 1)[0],
                                     query=request.query_string, body=body)

    async def _authorize(self, request: web.Request, operation: str, params: dict[str, Any], principal: Principal) -> None:
        resource, resource_tags = await self.service.resource_of(operation, params)
        request_tags = params.get("Tags") if isinstance(params.get("Tags"), dict) else None
        tag_keys = params["TagKeys"] if isinstance(params.get("TagKeys"), list) else None
        # every condition key the policy loader accepts is filled here (policy.CONTEXT_KEYS)
        context = policy.request_context(
            principal_arn=principal.arn, principal_tags=principal.tags, resource_tags=resource_tags,
            request_tags=request_tags, tag_keys=tag_keys, region=self.config.region, secure_transport=self._secure(request))
        action = f"{SERVICE_PREFIX}:{operation}"
        decision = policy.evaluate(principal.policies, action=action, resource=resource, context=context)
        if not decision.allowed:
            raise errors.access_denied(policy.denied_message(principal.arn, action, resource, decision))
        role = params.get("RoleArn")
        if operation in PASSES_ROLE and isinstance(role, str):
            # as in AWS: giving a workflow a role needs iam:PassRole on that role, so being allowed
            # to create or update workflows is not the power to act as every role they could trust
            pass_context = policy.request_context(
                principal_arn=principal.arn, principal_tags=principal.tags, region=self.config.region,
                secure_transport=self._secure(request), passed_to_service=policy.PASSED_TO_SERVICE)
            passing = policy.evaluate(principal.policies, action=policy.PASS_ROLE, resource=role, context=pass_context)
            if not passing.allowed:
                raise errors.access_denied(policy.denied_message(principal.arn, policy.PASS_ROLE, role, passing))

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        operation = "unknown"
        principal: Principal | None = None
        params: dict[str, Any] = {}
        result: dict[str, Any] | None = None
        status, code = 200, "OK"
        error: dict[str, Any] | None = None
        authenticated = False
        try:
            target_error: ApiError | None = None
            try:  # named first, so that refused calls are audited under their operation
                operation = protocol.target_operation(request.headers.get(protocol.TARGET_HEADER))
            except ApiError as e:
                target_error = e
                operation = "unknown"
            client = self._client_ip(request) or "unknown"
            try:  # from the headers alone: nothing read yet
                presented = self._refuse_early(request)
            except (sigv4.AuthError, ApiError):
                wait = self.unauthenticated.take(client, time.monotonic())
                if wait > 0:
                    raise errors.throttled(wait) from None
                raise
            # a key id (not secret) whose signatures keep failing from this address is refused
            # before its body is read; its owner's other addresses, and other keys here, are not
            failing = f"{client}|{presented.principal.access_key_id}" if presented is not None else client
            wait = self.unauthenticated.wait(failing, time.monotonic())
            if wait > 0:
                raise errors.throttled(wait)
            try:
                body = await self._read_body(request)
                principal = self._check_signature(request, presented, body)
            except (sigv4.AuthError, ApiError):
                self.unauthenticated.take(failing, time.monotonic())
                raise
            authenticated = True
            # a bucket per principal (its keys share it); without authentication, per client address
            bucket = principal.arn if presented is not None else client
            wait = self.limiter.take(bucket, time.monotonic())
            if wait > 0:
                raise errors.throttled(wait)
            if target_error is not None:
                raise target_error
            params = protocol.decode_body(body)
            problems = model.check_input(operation, params)
            problems += [FieldProblem(member, message) for member, message in arns.partition_problems(params)]
            if problems:
                raise errors.invalid_fields(problems)
            await self._authorize(request, operation, params, principal)
            result = await self._run(request, operation, params, principal)
            payload = protocol.encode_output(operation, result)
        except sigv4.AuthError as e:
            status, code = e.status, e.code
            error = {"__type": e.code, "message": e.message}
        except ApiError as e:
            status, code = e.status, e.code
            error = e.body()
        except Exception:  # never a stack trace to the caller; the log keeps it
            log.exception("%s failed (request %s)", operation, request_id)
            e2 = errors.internal()
            status, code = e2.status, e2.code
            error = e2.body()
        if error is not None:
            payload = json.dumps(error, separators=(",", ":")).encode()
        elapsed = time.monotonic() - started
        API_REQUESTS.labels(operation, code).inc()
        API_REQUEST_DURATION.labels(operation).observe(elapsed)
        self._audit(request, request_id, operation, principal if authenticated else None, params, result, error)
        return web.Response(status=status, body=payload, content_type=protocol.CONTENT_TYPE,
                            headers={"x-amzn-RequestId": request_id})

    async def _run(self, request: web.Request, operation: str, params: dict[str, Any], principal: Principal,
                   read: Callable[[], Awaitable[dict[str, Any]]] | None = None) -> dict[str, Any]:
        if read is not None:
            call = read()
        elif operation == "CreateAirflowUiUrl" and self.launcher is not None:
            call = self.launcher(request, principal, params)
        else:
            call = self.service.call(operation, params)
        try:
            return await asyncio.wait_for(call, self.config.operation_timeout_s)
        except asyncio.TimeoutError:
            raise errors.timeout(f"{operation} did not finish within {self.config.operation_timeout_s:g} seconds; "
                                 "it may still complete. Check the resource before retrying.") from None

    async def allowed(self, request: web.Request, principal: Principal, operation: str, params: dict[str, Any]) -> bool:
        """Whether the principal's policies allow `operation` (what the console offers; not audited)."""
        try:
            await self._authorize(request, operation, params, principal)
        except ApiError:
            return False
        return True

    async def invoke(self, request: web.Request, principal: Principal, operation: str, params: dict[str, Any],
                     session: Mapping[str, Any], read: Callable[[], Awaitable[dict[str, Any]]] | None = None
                     ) -> dict[str, Any]:
        """One operation on behalf of a console session (already authenticated by its cookie): the
        input checked against the model, authorized against the principal's policies as this
        operation, run, counted and audited (`session` goes into additionalEventData) exactly as
        a signed call would be. `read` replaces the service's operation with a read that shows no
        more than it (the console's task table: ListTaskInstances with each GetTaskInstance's
        fields but no XCom). Raises ApiError on refusal."""
        request_id, started = str(uuid.uuid4()), time.monotonic()
        result: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        try:
            problems = model.check_input(operation, params)
            problems += [FieldProblem(member, message) for member, message in arns.partition_problems(params)]
            if problems:
                raise errors.invalid_fields(problems)
            await self._authorize(request, operation, params, principal)
            result = await self._run(request, operation, params, principal, read)
            return result
        except ApiError as e:
            error = e.body()
            raise
        except Exception:
            log.exception("%s failed (console request %s)", operation, request_id)
            e2 = errors.internal()
            error = e2.body()
            raise e2 from None
        finally:
            API_REQUESTS.labels(operation, error["__type"] if error else "OK").inc()
            API_REQUEST_DURATION.labels(operation).observe(time.monotonic() - started)
            self._audit(request, request_id, operation, principal, params, result, error, dict(session))

    async def handle_logs(self, request: web.Request) -> web.Response:
        """The logs endpoint (api/logs.py): authenticated and throttled as every request, authorized
        as GetTaskInstance on the workflow, audited as GetTaskInstanceLog."""
        started, request_id, operation = time.monotonic(), str(uuid.uuid4()), task_logs.OPERATION
        principal: Principal | None = None
        params: dict[str, Any] = {}
        status, code, error, payload = 200, "OK", None, b""
        try:
            client = self._client_ip(request) or "unknown"
            try:
                presented = self._refuse_early(request)
                principal = self._check_signature(request, presented, await self._read_body(request))
            except (sigv4.AuthError, ApiError):
                principal = None
                if self.unauthenticated.take(client, time.monotonic()) > 0:
                    raise errors.throttled(1.0) from None
                raise
            wait = self.limiter.take(principal.arn if presented is not None else client, time.monotonic())
            if wait > 0:
                raise errors.throttled(wait)
            params = task_logs.parse_query(request.query)
            await self._authorize(request, task_logs.AUTHORIZED_AS, params, principal)
            try:
                result = await asyncio.wait_for(self.task_logs.read(params), self.config.operation_timeout_s)
            except asyncio.TimeoutError:
                raise errors.timeout(f"the log was not read within {self.config.operation_timeout_s:g} seconds") from None
            payload = json.dumps(result, separators=(",", ":")).encode()
        except sigv4.AuthError as e:
            status, code, error = e.status, e.code, {"__type": e.code, "message": e.message}
        except ApiError as e:
            status, code, error = e.status, e.code, e.body()
        except Exception:  # never a stack trace to the caller; the log keeps it
            log.exception("%s failed (request %s)", operation, request_id)
            e2 = errors.internal()
            status, code, error = e2.status, e2.code, e2.body()
        if error is not None:
            payload = json.dumps(error, separators=(",", ":")).encode()
        API_REQUESTS.labels(operation, code).inc()
        API_REQUEST_DURATION.labels(operation).observe(time.monotonic() - started)
        self._audit(request, request_id, operation, principal, params, None, error)
        return web.Response(status=status, body=payload, content_type="application/json",
                            headers={"x-amzn-RequestId": request_id})

    def _audit(self, request: web.Request, request_id: str, operation: str, principal: Principal | None,
               params: Mapping[str, Any], result: Mapping[str, Any] | None, error: Mapping[str, Any] | None,
               session: dict[str, Any] | None = None) -> None:
        shapes = model.raw_shapes()
        om = model.operation(operation) if operation in model.operation_names() else None
        request_parameters = response = None
        if om is not None and params and om.input_shape is not None:
            request_parameters = audit.trail_value(shapes, om.input_shape.name, params)
        if om is not None and result is not None and om.output_shape is not None and not operation.startswith(READ_ONLY):
            response = audit.trail_value(shapes, om.output_shape.name, json.loads(protocol.encode_output(operation, result)))
        arn = params.get("WorkflowArn") or params.get("ResourceArn") or (result or {}).get("WorkflowArn")
        extra: dict[str, Any] = {"console": session} if session else {}
        if principal is None:  # never authenticated: rate-limited, the dropped ones counted in the next
            if self.audit_limiter.take("unauthenticated", time.monotonic()) > 0:
                self.audit_suppressed += 1
                return
            if self.audit_suppressed:
                extra = {"suppressedUnauthenticatedEvents": self.audit_suppressed}
                self.audit_suppressed = 0
        try:
            self.audit_log.write(audit.bounded(audit.event(
                operation=operation, principal_arn=principal.arn if principal else None,
                access_key_id=(principal.access_key_id or None) if principal else None,
                source_ip=self._client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
                request_parameters=request_parameters, response_elements=response,
                error_code=error["__type"] if error else None, error_message=error.get("message") if error else None,
                region=self.config.region, account_id=self.config.account_id, now=self.config.clock(),
                request_id=request_id, event_id=str(uuid.uuid4()),
                resources=[arn] if isinstance(arn, str) and arn.startswith("arn:") else (),
                additional_event_data=extra or None)))
        except Exception:  # the audit trail must not take the API down; say so loudly
            log.exception("could not write the audit event of request %s", request_id)
