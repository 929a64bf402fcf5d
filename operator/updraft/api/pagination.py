"""Pages of list results and their NextTokens (pure).

A list is ordered by a string sort key that is unique per item; a page holds the first
`MaxResults` items after the last key of the previous page. The NextToken carries that key and
the request it belongs to (operation and filters), encoded and signed with HMAC-SHA256, so a token
is opaque to clients, cannot be edited, and cannot be replayed against another list. Keys rather
than offsets keep pages stable while items are added or removed between calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

from updraft.api.errors import ApiError, FieldProblem, validation

T = TypeVar("T")
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: str | None  # the sort key to continue after, or None on the last page


def page(items: Sequence[T], sort_key: Callable[[T], str], after: str | None, limit: int | None) -> Page[T]:
    ordered = sorted(items, key=sort_key)
    if after is not None:
        ordered = [i for i in ordered if sort_key(i) > after]
    size = limit or DEFAULT_PAGE
    chunk = ordered[:size]
    more = len(ordered) > size
    return Page(chunk, sort_key(chunk[-1]) if more and chunk else None)


class PageTokens:
    """Encodes and checks NextTokens with one secret (share it between API replicas)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pagination key must be at least 16 bytes")
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, after: str) -> str:
        payload = json.dumps({"s": scope, "a": after}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, token: str, scope: str) -> str:
        """The key to continue after, or ValidationException when the token is not one of ours,
        was edited, or belongs to a different list request."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise _invalid() from None
        mac, payload = raw[:16], raw[16:]
        if len(mac) < 16 or not hmac.compare_digest(mac, self._mac(payload)):
            raise _invalid()
        data = json.loads(payload)
        if data.get("s") != scope:
            raise validation("NextToken belongs to a different list request: repeat the request that returned it "
                             "with the same parameters", _fields())
        return str(data["a"])


def _fields() -> list[FieldProblem]:
    return [FieldProblem("NextToken", "not a token this list request returned")]


def _invalid() -> ApiError:
    return validation("The NextToken is invalid: pass back the NextToken of the previous page unchanged", _fields())
