"""Errors as ``application/problem+json`` (RFC 9457).

Business errors are exception classes carrying their status and problem type; one
handler renders them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"

Loc = tuple[str | int, ...]


class FieldError:
    __slots__ = ("loc", "msg")

    def __init__(self, loc: Sequence[str | int], msg: str) -> None:
        self.loc: Loc = tuple(loc)
        self.msg = msg

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


class Problem(Exception):
    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides its body."""
        return {}

    @property
    def type(self) -> str:
        return f"urn:botbill:problem:{self.slug}"

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [error.as_json() for error in self.errors]
        return body


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(Problem):
    """Refused for now, nothing kept; the client sends it again after ``retry_after``."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Invalid(Problem):
    status, slug, title = 422, "validation-error", "Invalid request"

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str) -> Invalid:
        """One invalid field: the detail repeats the message for readers of ``detail``."""
        return cls(msg, errors=[FieldError(loc, msg)])
