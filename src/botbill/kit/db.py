"""Database plumbing: metadata, column types, engines and the unit of work.

The request, job or CLI command opens a unit of work and commits it; services never
commit. On SQLite a writing unit starts with ``BEGIN IMMEDIATE`` so that two writers
queue on the database lock instead of failing when a read transaction upgrades.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    Select,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit surrogate key; on SQLite an INTEGER PRIMARY KEY, the rowid itself."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps naive text otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def build_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    # JSON columns are written on the ingest path: orjson is several times faster.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below (the pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("botbill_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def unit_of_work(engine: Engine, *, write: bool, snapshot: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back otherwise.

    ``snapshot``: every statement of a reading unit sees the database as of one instant
    (PostgreSQL's REPEATABLE READ; a SQLite read transaction always does), where READ
    COMMITTED gives each statement its own instant.
    """
    with Session(engine, expire_on_commit=False, autoflush=False) as session:
        if write:
            session.connection(execution_options={"botbill_write": True})
        elif snapshot and engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
            if write:
                session.commit()
            # A reading unit just closes: the connection's transaction ends, and the
            # objects it loaded stay readable (a rollback would expire them).
        except BaseException:
            session.rollback()
            raise


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as one (for SQLAlchemy Core statements)."""
    return cast(Table, model.__table__)


def fetch_raw(session: Session, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a SELECT as plain tuples, straight from the DB-API cursor.

    For hot read paths over thousands of integer or bytes rows, where SQLAlchemy's
    per-row result processing costs more than the query itself. No type conversion
    happens: use it only for columns the driver already returns as Python values.
    """
    connection = session.connection()
    # ``render_postcompile``: an expanding ``IN`` becomes one placeholder per value.
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    arguments: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), arguments)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def upsert_insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for the session's database."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[ColumnElement[Any]] = (),
    on_conflict: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """Insert many rows (all with the same keys); returns the ``returning`` rows.

    On PostgreSQL the values travel as one array per column, unnested by the server:
    one short statement, where the multi-row ``VALUES`` SQLAlchemy renders for an
    executemany is a new long statement for every batch size, which psycopg parses in
    Python each time (5,000 billing sessions: 700 ms as ``VALUES``, 130 ms as arrays).
    ``on_conflict`` receives the dialect's insert and returns it with its
    ``on_conflict_do_*`` clause. The order of returned rows is not promised.
    """
    if not rows:
        return []
    insert = upsert_insert(session)
    if session.get_bind().dialect.name != "postgresql":
        statement = insert(table)
        if on_conflict is not None:
            statement = on_conflict(statement)
        if returning:
            return list(session.execute(statement.returning(*returning), list(rows)))
        session.execute(statement, list(rows))
        return []
    names = list(rows[0])
    arrays = select(
        *(
            func.unnest(cast_(bindparam(f"values_{name}"), ARRAY(table.c[name].type)))
            for name in names
        )
    )
    statement = insert(table).from_select(names, arrays)
    if on_conflict is not None:
        statement = on_conflict(statement)
    if returning:
        statement = statement.returning(*returning)
    values = {f"values_{name}": [row[name] for row in rows] for name in names}
    result = session.execute(statement, values)
    return list(result) if returning else []


def among(
    session: Session, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values``, as PostgreSQL's ``column = ANY(:array)`` there: one statement
    text whatever the number of values, where each new length of an ``IN`` list is a new
    text that psycopg parses in Python (a 500-id delete: 6 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
