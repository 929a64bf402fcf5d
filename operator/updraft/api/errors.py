"""The service model's exceptions as one Python exception type, with the HTTP status AWS uses for
each (the model names the codes; the statuses are the ones the AWS services answer with).

Anything raised from an operation that is not an ApiError becomes InternalServerException with a
generic message: the user never sees a stack trace (the server logs it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

STATUS: Mapping[str, int] = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "OperationTimeoutException": 504,
    # SigV4 failures (not in the model: every AWS JSON service answers them the same way)
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 400,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
}

SERVICE_CODE = "airflow-serverless"
WORKFLOW = "Workflow"
RUN = "WorkflowRun"
TASK_INSTANCE = "TaskInstance"


@dataclass
class FieldProblem:
    name: str  # the request path, e.g. "DefinitionS3Location.Bucket"
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


@dataclass
class ApiError(Exception):
    code: str
    message: str
    members: dict[str, Any] = field(default_factory=dict)  # the exception shape's other members
    http_status: int | None = None  # when the code's usual status does not fit (413 for a body too large)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    @property
    def status(self) -> int:
        return self.http_status or STATUS.get(self.code, 400)

    def body(self) -> dict[str, Any]:
        """The JSON 1.0 error document: `__type`, `message`, then the shape's other members."""
        return {"__type": self.code, "message": self.message, **self.members}


def validation(message: str, fields: list[FieldProblem] | None = None, reason: str = "fieldValidationFailed") -> ApiError:
    members: dict[str, Any] = {"Reason": reason}
    if fields:
        members["FieldList"] = [{"Name": f.name, "Message": f.message} for f in fields]
    return ApiError("ValidationException", message, members)


def too_large(limit: int) -> ApiError:
    """A body over the limit: ValidationException (the model's code) with HTTP 413, as AWS's front
    ends answer; the body is never read past the limit."""
    return ApiError("ValidationException", f"The request body is larger than {limit} bytes",
                    {"Reason": "cannotParse"}, http_status=413)


def invalid_fields(fields: list[FieldProblem]) -> ApiError:
    head = "; ".join(str(f) for f in fields[:5]) + ("; ..." if len(fields) > 5 else "")
    return validation(f"{len(fields)} validation error{'s' if len(fields) != 1 else ''} detected: {head}", fields)


def not_found(resource_type: str, resource_id: str, message: str | None = None) -> ApiError:
    return ApiError("ResourceNotFoundException", message or f"{resource_type} {resource_id} was not found.",
                    {"ResourceId": resource_id, "ResourceType": resource_type})


def conflict(resource_type: str, resource_id: str, message: str) -> ApiError:
    return ApiError("ConflictException", message, {"ResourceId": resource_id, "ResourceType": resource_type})


def quota_exceeded(resource_type: str, resource_id: str, quota_code: str, message: str) -> ApiError:
    return ApiError("ServiceQuotaExceededException", message,
                    {"ResourceId": resource_id, "ResourceType": resource_type, "ServiceCode": SERVICE_CODE,
                     "QuotaCode": quota_code})


def throttled(retry_after_s: float) -> ApiError:
    seconds = max(1, int(retry_after_s + 0.999))
    return ApiError("ThrottlingException", "Rate exceeded", {"ServiceCode": SERVICE_CODE, "QuotaCode": "RequestRate",
                                                             "RetryAfterSeconds": seconds})


def access_denied(message: str) -> ApiError:
    return ApiError("AccessDeniedException", message)


def internal(message: str = "The request failed because of an internal error. Try again later.") -> ApiError:
    return ApiError("InternalServerException", message)


def timeout(message: str) -> ApiError:
    return ApiError("OperationTimeoutException", message)
