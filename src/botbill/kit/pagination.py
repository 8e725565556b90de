"""Cursor pagination: ``?limit=`` (1..1000, default 50) and an opaque ``cursor``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from botbill.kit.problems import Invalid

T = TypeVar("T")
R = TypeVar("R")

LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def cut_page(
    rows: Sequence[R], limit: int, position: Callable[[R], list[Any]]
) -> tuple[list[R], str | None]:
    """The first ``limit`` of ``limit + 1`` fetched rows, and the cursor after them when
    the extra row shows that another page follows."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, encode_cursor(position(page[-1])) if more and page else None


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, arity: int) -> list[Any] | None:
    """The position a cursor stands for; a cursor we did not issue is a clear 422."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        position = None
    if (
        not isinstance(position, list)
        or len(position) != arity
        or any(isinstance(part, str) and "\x00" in part for part in position)
    ):
        raise Invalid.at(["query", "cursor"], "not a cursor this API issued")
    return position
