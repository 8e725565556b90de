"""Errors in the platform's own shape: ``{"errors": [{"msg": "...", "code": 400}]}``.

The compatibility API keeps the platform's shapes (API.md, Compatibility), so its errors
are not problem+json; its routes turn these exceptions into that body.
"""

from __future__ import annotations

from typing import Any

RATE_LIMITED = "Rate limit for this API has been reached. Please try again after some time."


class PlatformError(Exception):
    """A refusal of the compatibility API: its status and a message naming what is wrong."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg

    def as_json(self) -> dict[str, Any]:
        return {"errors": [{"msg": self.msg, "code": self.status}]}


def bad_request(msg: str) -> PlatformError:
    return PlatformError(400, msg)


def unauthorized(msg: str) -> PlatformError:
    return PlatformError(401, msg)
