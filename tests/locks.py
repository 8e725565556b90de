"""Row locks held from a second PostgreSQL connection, as a busy server would hold them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Engine

postgresql_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def holding(
    engine: Engine, sql: str, *, allow_empty: bool = False, **params: str
) -> Iterator[psycopg.Connection]:
    """A second connection holding the row locks ``sql`` (a ``FOR UPDATE``) takes, until
    the block ends (then it rolls back)."""
    with psycopg.connect(_url(engine)) as connection:
        rows = connection.execute(sql, params).fetchall()
        assert rows or allow_empty, "nothing to hold"
        yield connection
        connection.rollback()


def lock_waiters(engine: Engine, table: str) -> int:
    """How many backends of this database wait for a lock in a statement naming ``table``."""
    with psycopg.connect(_url(engine), autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s",
            (f"%{table}%",),
        ).fetchone()
        return int(row[0]) if row else 0
