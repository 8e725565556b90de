"""``Idempotency-Key`` on writes that move money (API.md, General).

The first request with a key claims it inside its own unit of work, before doing any
work; its answer is stored with the claim and committed with the work, or rolled back with
it. A repeat with the same key and the same request gets the stored answer and moves no
money; the same key on a different request is a 409. On PostgreSQL a concurrent repeat
waits on the claim's row until the first commits (or rolls back, and then it goes ahead).
Only successful answers are stored: a refused request changed nothing, and may be retried
with its key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.kit.db import table_of, upsert_insert
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, Invalid
from botbill.orders.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    body: dict[str, Any]


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise Invalid.at(["header", HEADER], "an Idempotency-Key is 1-255 visible ASCII characters")
    return key


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    # The standard library's encoder: any integer a client sends (orjson stops at 64 bits,
    # and the request is judged by its own rules after this, not here).
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Request:
    """A write that carries an ``Idempotency-Key``: the key and what the request was."""

    key: str
    fingerprint: str


def request_of(key: str | None, method: str, path: str, body: dict[str, Any]) -> Request | None:
    return None if key is None else Request(key, fingerprint(method, path, body))


@dataclass(frozen=True, slots=True)
class Reply:
    """A write's answer: the first one again (``replayed``) or the one just made."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def once(
    session: Session,
    *,
    workspace_id: str,
    request: Request | None,
    now: Micros,
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> Reply:
    """Do ``work`` (returning its status code and JSON body) unless this request's key
    already has an answer: then that answer, and nothing is done."""
    if request is not None:
        stored = claim(
            session,
            workspace_id=workspace_id,
            key=request.key,
            request_hash=request.fingerprint,
            now=now,
        )
        if stored is not None:
            return Reply(stored.status_code, stored.body, replayed=True)
    status_code, body = work()
    if request is not None:
        complete(
            session, workspace_id=workspace_id, key=request.key, status_code=status_code, body=body
        )
    return Reply(status_code, body)


def claim(
    session: Session, *, workspace_id: str, key: str, request_hash: str, now: Micros
) -> Stored | None:
    """``None`` when this request now holds the key; else the first request's answer."""
    insert = upsert_insert(session)
    statement = (
        insert(table_of(IdempotencyRecord))
        .values(
            workspace_id=workspace_id,
            key=key,
            request_hash=request_hash,
            status_code=0,
            response={},
            created_at=from_micros(now),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
        .returning(table_of(IdempotencyRecord).c.key)
    )
    if session.execute(statement).first() is not None:
        return None
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id, IdempotencyRecord.key == key
        )
    ).one()
    if record.request_hash != request_hash:
        raise Conflict(f"this {HEADER} was used for a different request")
    return Stored(record.status_code, record.response)


def complete(
    session: Session, *, workspace_id: str, key: str, status_code: int, body: dict[str, Any]
) -> None:
    record = session.get(IdempotencyRecord, (workspace_id, key))
    assert record is not None  # claimed in this unit of work
    record.status_code = status_code
    record.response = body
    session.flush()
