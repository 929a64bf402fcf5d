"""One error vocabulary for the operator and the API's I/O layers.

- `Retry`: the work could not be done *now* (a definition source not readable yet, the Kubernetes
  API throttling or failing, a write conflict). The caller tries again after `delay` seconds; the
  operator's handlers turn it into kopf's TemporaryError, its daemons sleep and loop. While it
  lasts, the object says so (a condition or an event), never silently.
- `Permanent`: the input is wrong and trying again cannot help until someone changes it (an invalid
  definition, an unusable network spec). It surfaces on the object: a condition on a Workflow, a
  FAILED run or task with the message. The API maps the same facts to the model's
  ValidationException / ConflictException.
- Kubernetes errors are `updraft.k8s.resources.KubeError`s; `transient` says which of them are
  worth retrying.
"""

from __future__ import annotations

from updraft.k8s.resources import KubeError, NotFound

TRANSIENT_STATUSES = frozenset({0, 408, 425, 429, 500, 502, 503, 504})


class Retry(Exception):
    """Not now: try again after `delay` seconds."""

    def __init__(self, message: str, delay: float = 5.0) -> None:
        super().__init__(message)
        self.message, self.delay = message, delay


class Permanent(Exception):
    """Not until the input changes; `reason` is a CamelCase word for conditions and events."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def transient(error: BaseException) -> bool:
    """Whether a failed Kubernetes call may succeed if simply repeated (throttling, a server error,
    a timeout, a lost connection). NotFound, Forbidden, Invalid and Conflict are answers, not
    accidents."""
    if isinstance(error, NotFound):
        return False
    if isinstance(error, KubeError):
        return error.status in TRANSIENT_STATUSES
    return isinstance(error, (TimeoutError, ConnectionError, OSError))
