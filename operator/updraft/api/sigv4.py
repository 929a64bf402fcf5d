"""AWS Signature Version 4 verification of incoming requests (pure: the clock is a parameter).

The AWS SDKs and CLI sign every request with the caller's secret key; `verify` recomputes the
signature from the request as received and returns the Principal of the access key, or raises
AuthError with the code, message and HTTP status an AWS JSON service answers with, so SDK error
handling (and people reading the message) behave as against AWS.

The algorithm, as AWS specifies it for services other than S3:
  canonical request = method, canonical URI (dot segments and repeated slashes removed, then each
    byte outside A-Z a-z 0-9 - _ . ~ / percent-encoded, i.e. the path as sent is encoded again),
    canonical query (pairs decoded, re-encoded, sorted), the signed headers as `name:value` lines
    (lower-case names, values trimmed with inner runs of spaces collapsed, repeated headers joined
    by commas), the signed header names, and the hex SHA-256 of the body;
  string to sign = "AWS4-HMAC-SHA256", the request time, the credential scope, SHA-256 of the above;
  signing key = HMAC chain of "AWS4"+secret over date, region, service and "aws4_request".

Updraft is stricter than AWS in two places, both about what the signature must cover: the body is
always hashed here (an X-Amz-Content-Sha256 header must equal the body's hash; UNSIGNED-PAYLOAD is
refused), and an X-Amz-Target header, which selects the operation, must be signed (every AWS SDK
signs it). Session credentials (X-Amz-Security-Token) are not issued by Updraft, so are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from updraft.api.credentials import Principal

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
SERVICE = "airflow-serverless"
MAX_SKEW = timedelta(minutes=5)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
UNRESERVED = "-_.~"

INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.")


class AuthError(Exception):
    """A request that is not authenticated; `code`, `message` and `status` as AWS answers."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"AuthError({self.code!r}, {self.message!r}, {self.status})"


def _missing() -> AuthError:
    return AuthError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)


def _incomplete(message: str) -> AuthError:
    return AuthError("IncompleteSignatureException", message, 400)


def _unrecognized() -> AuthError:
    return AuthError("UnrecognizedClientException", INVALID_TOKEN, 403)


def _invalid(message: str = SIGNATURE_MISMATCH) -> AuthError:
    return AuthError("InvalidSignatureException", message, 403)


# ---------------------------------------------------------------- canonical request

def canonical_uri(path: str) -> str:
    """The path as AWS canonicalizes it for non-S3 services (botocore does the same)."""
    segments = [s for s in path.split("/") if s and s != "."]
    out: list[str] = []
    for s in segments:
        if s == "..":
            if out:
                out.pop()
        else:
            out.append(s)
    normalized = "/" + "/".join(out)
    if out and path.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for pair in query.split("&") if query else []:
        if not pair:
            continue
        key, _, value = pair.partition("=")
        pairs.append((quote(unquote(key), safe=UNRESERVED), quote(unquote(value), safe=UNRESERVED)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header_map(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case name -> value, repeated headers joined by commas (`items()` yields every value of
    a multi-dict such as aiohttp's CIMultiDictProxy)."""
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        out.setdefault(name.lower().strip(), []).append(" ".join(str(value).split()))
    return {k: ",".join(v) for k, v in out.items()}


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str],
                      payload_hash: str) -> str:
    """`headers` already lower-cased and trimmed (see _header_map)."""
    lines = [f"{name}:{headers.get(name, '')}\n" for name in signed]
    return "\n".join([method.upper(), canonical_uri(path), canonical_query(query), "".join(lines),
                      ";".join(signed), payload_hash])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])


# ---------------------------------------------------------------- the Authorization header

def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        needs = ["Credential", "Signature", "SignedHeaders"]
        raise _incomplete(" ".join(f"Authorization header requires '{n}' parameter." for n in needs)
                          + f" Authorization={value}")
    params: dict[str, str] = {}
    for item in re.split(r"[\s,]+", rest):  # AWS separates the parameters by commas and/or spaces
        if not item:
            continue
        name, eq, val = item.partition("=")
        if not eq:
            raise _incomplete(f"'{item}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                              f"'{value}'.")
        params[name.strip()] = val.strip()
    return params


def _request_time(headers: Mapping[str, str]) -> tuple[str, datetime] | None:
    if "x-amz-date" in headers:
        raw = headers["x-amz-date"]
        try:
            return raw, datetime.strptime(raw, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise _incomplete(f"Date must be in ISO-8601 'basic format'. Got '{raw}'. "
                              "See http://en.wikipedia.org/wiki/ISO_8601") from None
    if "date" in headers:
        try:
            when = parsedate_to_datetime(headers["date"])
            when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
        except (TypeError, ValueError):
            raise _incomplete(f"Date must be in RFC 1123 format. Got '{headers['date']}'.") from None
        return when.strftime(AMZ_DATE_FORMAT), when
    return None


def _stamp(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime(AMZ_DATE_FORMAT)


# ---------------------------------------------------------------- verify

@dataclass(frozen=True)
class Presented:
    """What the headers of a request claim, checked as far as it can be without the body: a
    known access key, a well-formed signature scope, a request time within the skew. The server
    reads the body only after this (an unauthenticated caller never makes it read a byte)."""

    principal: Principal
    amz_date: str
    scope_parts: tuple[str, ...]
    signed: tuple[str, ...]
    signature: str
    headers: Mapping[str, str]


def precheck(*, headers: Mapping[str, str], credentials: Mapping[str, Principal], region: str, now: datetime,
             service: str = SERVICE) -> Presented:
    """Everything `verify` checks that does not need the body: the Presented request, or AuthError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    h = _header_map(headers)
    authorization = h.get("authorization")
    if not authorization:
        raise _missing()
    params = _parse_authorization(authorization)
    problems = [f"Authorization header requires '{n}' parameter."
                for n in ("Credential", "Signature", "SignedHeaders") if not params.get(n)]
    when = _request_time(h)
    if when is None:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        raise _incomplete(" ".join(problems) + f" Authorization={authorization}")
    assert when is not None
    amz_date, request_time = when

    credential = params["Credential"]
    scope_parts = credential.split("/")
    if len(scope_parts) != 5:
        raise _incomplete("Credential must have exactly 5 slash-delimited elements, e.g. "
                          f"keyid/date/region/service/term, got '{credential}'")
    key_id, scope_date, scope_region, scope_service, terminator = scope_parts
    signed = [name.strip().lower() for name in params["SignedHeaders"].split(";")]
    if "host" not in signed and ":authority" not in signed:
        raise _incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-target" in h and "x-amz-target" not in signed:
        raise _incomplete("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")

    if "x-amz-security-token" in h:
        raise _unrecognized()  # Updraft issues no session credentials
    if terminator != TERMINATOR:
        raise _invalid(f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. ")
    if scope_service != service:
        raise _invalid(f"Credential should be scoped to correct service: '{service}'. ")
    if scope_region != region:
        raise _invalid(f"Credential should be scoped to a valid region, not '{scope_region}'. "
                       f"This endpoint's region is '{region}'.")
    if scope_date != amz_date[:8]:
        raise _invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                       f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")

    principal = credentials.get(key_id)
    if principal is None:
        raise _unrecognized()

    if request_time < now - MAX_SKEW:
        raise _invalid(f"Signature expired: {amz_date} is now earlier than {_stamp(now - MAX_SKEW)} "
                       f"({_stamp(now)} - 5 min.)")
    if request_time > now + MAX_SKEW:
        raise _invalid(f"Signature not yet current: {amz_date} is still later than {_stamp(now + MAX_SKEW)} "
                       f"({_stamp(now)} + 5 min.)")
    return Presented(principal, amz_date, tuple(scope_parts), tuple(signed), params["Signature"], h)


def check_signature(presented: Presented, *, method: str, path: str, query: str, body: bytes) -> Principal:
    """The second half of `verify`: the body's hash and the signature itself."""
    h = presented.headers
    payload_hash = hashlib.sha256(body).hexdigest()
    claimed = h.get("x-amz-content-sha256")
    if claimed is not None and claimed != payload_hash:
        raise _invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
    canonical = canonical_request(method, path, query, h, list(presented.signed), payload_hash)
    _key_id, scope_date, scope_region, scope_service, _terminator = presented.scope_parts
    scope = "/".join(presented.scope_parts[1:])
    key = signing_key(presented.principal.secret_access_key, scope_date, scope_region, scope_service)
    expected = hmac.new(key, string_to_sign(presented.amz_date, scope, canonical).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), presented.signature.encode()):
        raise _invalid()
    return presented.principal


def verify(*, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
           credentials: Mapping[str, Principal], region: str, now: datetime, service: str = SERVICE) -> Principal:
    """The Principal that signed this request, or AuthError. `path` and `query` are as received
    (still percent-encoded); `now` must be timezone-aware."""
    presented = precheck(headers=headers, credentials=credentials, region=region, now=now, service=service)
    return check_signature(presented, method=method, path=path, query=query, body=body)
