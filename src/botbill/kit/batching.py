from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (bounded SQL ``IN`` lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_in(columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> ColumnElement[bool]:
    """``(columns) IN rows`` as ORed equalities over every column, which SQLite answers
    from an index on those columns (it scans for a row-value ``IN``, or when a shared
    column sits outside the OR). For a few dozen rows at most."""
    return or_(
        *(
            and_(*(column == value for column, value in zip(columns, row, strict=True)))
            for row in rows
        )
    )
