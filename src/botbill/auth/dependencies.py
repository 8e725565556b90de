"""Who is calling: an API key's workspace and scopes, or a platform operator's key,
checked once per request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from botbill.auth.keys import Scope, hash_secret, last_use_due
from botbill.auth.service import OPERATOR_KEY_PREFIX, find_key, find_operator_key, record_use
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.kit.problems import Forbidden, Unauthorized
from botbill.kit.web import EngineDep


@dataclass(frozen=True, slots=True)
class Caller:
    workspace_id: str
    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


def _bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    return secret.strip()


KEY_CACHE_SECONDS = 5.0
"""How long a checked key is trusted without asking the database again (so a revoked
key keeps working for at most this long)."""

_checked: dict[str, tuple[Caller, float]] = {}
"""Callers by the digest of their key, never the key itself: what stays in memory
between requests is no more than the database holds."""


def _lookup(engine: Engine, secret: str) -> Caller | None:
    with unit_of_work(engine, write=False) as session:
        key = find_key(session, secret)
        if key is None:
            return None
        return Caller(workspace_id=key.workspace_id, key_id=key.id, scopes=key.scope_set)


async def authenticate(request: Request, engine: EngineDep) -> Caller:
    secret = _bearer_secret(request)
    digest = hash_secret(secret)
    cached = _checked.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        caller = cached[0]
    else:
        found = await run_in_threadpool(_lookup, engine, secret)
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        caller = found
        if len(_checked) > 10_000:
            _checked.clear()
        _checked[digest] = (caller, time.monotonic() + KEY_CACHE_SECONDS)
    await _note_use(request, engine, caller.key_id)
    return caller


def forget(key_id: str) -> None:
    """Drop a revoked key from this process's cache at once (other processes drop it
    within ``KEY_CACHE_SECONDS``)."""
    for digest, (caller, _) in list(_checked.items()):
        if caller.key_id == key_id:
            _checked.pop(digest, None)


_uses_written: dict[str, Micros] = {}
"""The last use of each key this process wrote: most requests write nothing."""


async def _note_use(request: Request, engine: Engine, key_id: str) -> None:
    clock: Clock = request.app.state.clock
    now = clock.now()
    if not last_use_due(_uses_written.get(key_id), now):
        return
    if len(_uses_written) > 10_000:
        _uses_written.clear()
    _uses_written[key_id] = now  # before the write: concurrent requests do not all write
    await run_in_threadpool(_write_use, engine, key_id, now)


def _write_use(engine: Engine, key_id: str, now: Micros) -> None:
    with unit_of_work(engine, write=True) as session:
        record_use(session, key_id, now=now)


def require(scope: Scope) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if not caller.allows(scope):
            raise Forbidden(f"this API key lacks the {scope.value!r} scope")
        return caller

    return check


Reader = Annotated[Caller, Depends(require(Scope.READ))]
Admin = Annotated[Caller, Depends(require(Scope.ADMIN))]
Ingester = Annotated[Caller, Depends(require(Scope.INGEST))]


# --- operators --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OperatorCaller:
    key_id: str


def authenticate_operator(request: Request, engine: EngineDep) -> OperatorCaller:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send an operator key as 'Authorization: Bearer <key>'")
    with unit_of_work(engine, write=False) as session:
        key = find_operator_key(session, secret) if secret.startswith(OPERATOR_KEY_PREFIX) else None
        if key is not None:
            return OperatorCaller(key_id=key.id)
        if find_key(session, secret) is not None:
            raise Forbidden("this is an operator action; a workspace API key may not do it")
    raise Unauthorized("unknown or revoked API key")


OperatorDep = Annotated[OperatorCaller, Depends(authenticate_operator)]
