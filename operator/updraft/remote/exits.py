"""Exit codes of the API commands, and how a failed call becomes one line for a person.

Errors are matched on the names in the exception's class hierarchy (botocore's classes), so this
module needs no AWS library and its tests can build the exceptions themselves."""

from __future__ import annotations

from typing import Any

OK = 0
RUN_NOT_SUCCESSFUL = 1
USAGE = 2
NOT_FOUND = 3
API_ERROR = 4
UNREACHABLE = 5
TIMED_OUT = 6
INTERRUPTED = 130

EXIT_CODES_HELP = """\
Exit status:
  0    done; with --wait and 'run wait': the run ended SUCCESS
  1    the run ended, but not SUCCESS (FAILED, TIMEOUT or STOPPED)
  2    wrong command line, or nothing configured to call the API with (no endpoint, region or
       AWS credentials)
  3    unknown workflow, run or workflow version
  4    the API refused the call (access denied, validation, conflict, throttling, internal
       error): its error code and message are printed
  5    the API could not be reached, or did not answer like an Updraft/MWAA Serverless API
  6    --timeout passed before the run ended (the run goes on)
  130  interrupted (Ctrl-C); a run that was started goes on"""

CONNECTION_HELP = """\
Connection: --endpoint-url or UPDRAFT_ENDPOINT_URL names the API (what 'updraft api serve'
or the chart's API Service listens on). Requests are signed (SigV4) with the normal AWS
credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, ...), so
the API's policies and audit log apply to you; --no-sign-request is for an API started with
--insecure-no-auth. The region (--region, AWS_REGION, or the profile's) must be the API's."""

CREDENTIALS_HINT = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / --profile; "
                    "--no-sign-request for an API served with --insecure-no-auth")


class CliError(Exception):
    """A failure to report as one line, with the exit code it maps to."""

    def __init__(self, message: str, code: int, api_code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.api_code = one_line(message), code, api_code

    @property
    def transient(self) -> bool:
        """Worth retrying later: the API unreachable, throttling, or a server-side failure."""
        return self.code == UNREACHABLE or self.api_code in TRANSIENT_API_CODES


TRANSIENT_API_CODES = frozenset({"ThrottlingException", "InternalServerException", "OperationTimeoutException"})


def one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _names(exc: BaseException) -> set[str]:
    return {c.__name__ for c in type(exc).__mro__}


def describe(exc: BaseException, endpoint: str = "", what: str = "") -> CliError:
    """The CliError for an exception raised by a boto3 call. `what` names the object the call was
    about ("workflow 'etl'", "run r1 of workflow 'etl'") for not-found errors."""
    names = _names(exc)
    if "ClientError" in names:
        response: dict[str, Any] = getattr(exc, "response", None) or {}
        error = response.get("Error") or {}
        code, message = str(error.get("Code") or "Unknown"), str(error.get("Message") or "")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code == "ResourceNotFoundException":
            prefix = f"unknown {what}: " if what else ""
            return CliError(f"{prefix}{message or code}", NOT_FOUND, code)
        if code.isdigit() or (not message and isinstance(status, int) and status >= 400 and code == "Unknown"):
            # not a JSON error document: something else answered at that address
            shown = message if message and not message.lstrip().startswith("<") and len(message) <= 120 else ""
            return CliError(f"HTTP {status or code} from {endpoint or 'the endpoint'}"
                            f"{': ' + shown if shown else ''} (is this an Updraft API endpoint?)", UNREACHABLE)
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
                    "MissingAuthenticationTokenException"):
            return CliError(f"{code}: {message} (check the AWS credentials and that --region is the API's)",
                            API_ERROR, code)
        operation = getattr(exc, "operation_name", "")
        return CliError(f"{operation + ' failed: ' if operation else ''}{code}: {message}", API_ERROR, code)
    if names & {"NoCredentialsError", "PartialCredentialsError"}:
        return CliError(f"no AWS credentials found: {CREDENTIALS_HINT}", USAGE)
    if "NoRegionError" in names:
        return CliError("no region configured: give --region or set AWS_REGION (the API's region)", USAGE)
    if "ProfileNotFound" in names:
        return CliError(f"{exc}", USAGE)
    if "ParamValidationError" in names:
        return CliError(f"invalid request: {exc}", USAGE)
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                "ProxyConnectionError", "SSLError", "HTTPClientError"}:
        return CliError(f"cannot reach the API at {endpoint or 'the endpoint'}: {exc}", UNREACHABLE)
    if "ResponseParserError" in names:
        return CliError(f"the answer from {endpoint or 'the endpoint'} is not an MWAA Serverless API response "
                        "(is this an Updraft API endpoint?)", UNREACHABLE)
    if "BotoCoreError" in names:
        return CliError(f"{exc}", UNREACHABLE)
    return CliError(f"unexpected error: {type(exc).__name__}: {exc}", UNREACHABLE)
