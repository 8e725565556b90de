"""The bucket of each row, computed by the database: which of a window's buckets holds a
row's 15-minute slot.

A window's buckets are contiguous and their bounds are slot numbers (every bucket starts
on a slot boundary), so the bucket of a slot is the number of bounds at or below it,
less one. PostgreSQL has that as ``width_bucket(slot, bounds)`` over one array
parameter. SQLite gets a balanced ``CASE`` of bound parameters (a few comparisons per
row), built once per number of buckets: the statement text then depends only on that
number, so SQLAlchemy's compiled cache and SQLite's statement cache both hold it, and
the bounds travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, bindparam, case, func, literal
from sqlalchemy.dialects.postgresql import ARRAY

_CASES: dict[tuple[str, str, int], ColumnElement[int]] = {}


def bucket_index(column: ColumnElement[int], count: int, dialect: str) -> ColumnElement[int]:
    """The bucket index (0 .. count-1) of ``column`` among ``count`` buckets, for slots at
    or above the first bound; bind its bounds with ``bucket_params``."""
    if dialect == "postgresql":
        bounds = bindparam("bucket_bounds", type_=ARRAY(BigInteger))
        return func.width_bucket(column, bounds) - 1
    key = (str(getattr(column, "table", "")), str(column), count)
    if key not in _CASES:
        _CASES[key] = _balanced(column, 0, count)
    return _CASES[key]


def bucket_params(bounds: Sequence[int], dialect: str) -> dict[str, Any]:
    """The parameters of ``bucket_index`` for buckets starting at these slots."""
    if dialect == "postgresql":
        return {"bucket_bounds": list(bounds)}
    return {f"bucket_bound_{index}": bound for index, bound in enumerate(bounds)}


def _balanced(column: ColumnElement[int], low: int, high: int) -> ColumnElement[int]:
    if high - low == 1:
        return literal(low, Integer)
    middle = (low + high) // 2
    return case(
        (
            column < bindparam(f"bucket_bound_{middle}", type_=BigInteger),
            _balanced(column, low, middle),
        ),
        else_=_balanced(column, middle, high),
    )
