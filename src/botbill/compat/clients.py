"""API clients: issued by a workspace admin, found by the JWTs they sign, rate limited.

A client is looked up on every request (no cache), so a revoked one stops at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography.exceptions import InvalidTag
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.compat import client_secrets, tokens
from botbill.compat.errors import RATE_LIMITED, PlatformError, unauthorized
from botbill.compat.models import ApiClient, ApiClientRequestCount
from botbill.kit.db import table_of, upsert_insert
from botbill.kit.instants import HOUR, MINUTE, Micros, from_micros
from botbill.kit.problems import NotFound


class ClientScope(StrEnum):
    BILLING_SESSIONS_READ = "billing_sessions:read"


LIMITS: Final = (("minute", MINUTE, 60), ("hour", HOUR, 1_800))
"""Requests a client may make per window (API.md, Compatibility)."""


@dataclass(frozen=True, slots=True)
class IssuedClient:
    client: ApiClient
    secret: str


@dataclass(frozen=True, slots=True)
class ClientCaller:
    """The API client a request's JWT was checked against."""

    client_id: str
    workspace_id: str


def create_client(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    scopes: Iterable[ClientScope],
    secret_key: str,
    actor: Actor,
    now: Micros,
) -> IssuedClient:
    """A new client; its secret is returned only here (kept encrypted)."""
    client_id = f"cs-{uuid.uuid4()}"
    secret = client_secrets.new_secret()
    client = ApiClient(
        id=client_id,
        workspace_id=workspace_id,
        name=name,
        scopes=",".join(sorted({scope.value for scope in scopes})),  # each once
        secret_ciphertext=client_secrets.seal(secret, client_id=client_id, secret_key=secret_key),
        created_at=from_micros(now),
    )
    session.add(client)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.API_CLIENT_CREATED,
        target=target("api_client", client_id),
        before=None,
        after={"name": name, "scopes": sorted(client.scope_set - {""})},
        now=now,
    )
    return IssuedClient(client=client, secret=secret)


def list_clients(session: Session, *, workspace_id: str) -> list[ApiClient]:
    return list(
        session.scalars(
            select(ApiClient)
            .where(ApiClient.workspace_id == workspace_id)
            .order_by(ApiClient.created_at, ApiClient.id)
        )
    )


def revoke_client(
    session: Session, *, workspace_id: str, client_id: str, actor: Actor, now: Micros
) -> ApiClient:
    """Revoke a client of the workspace (404 for another workspace's); idempotent."""
    client = session.get(ApiClient, client_id)
    if client is None or client.workspace_id != workspace_id:
        raise NotFound(f"no API client {client_id!r}")
    if client.revoked_at is None:
        client.revoked_at = from_micros(now)
        session.flush()
        record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action=Action.API_CLIENT_REVOKED,
            target=target("api_client", client_id),
            before={"revoked_at": None},
            after={"revoked_at": client.revoked_at},
            now=now,
        )
    return client


def authenticate(
    session: Session, *, token: str, secret_key: str, scope: ClientScope, now: Micros
) -> ClientCaller:
    """The live client that signed ``token``: 401 for a bad token or an unknown or revoked
    client, 403 for a client without ``scope``, 429 past its rate limit."""
    client_id = tokens.client_id_of(token)
    client = session.get(ApiClient, client_id) if "\x00" not in client_id else None
    if client is None or client.revoked_at is not None:
        raise unauthorized("unknown or revoked API client")
    try:
        secret = client_secrets.unseal(
            client.secret_ciphertext, client_id=client.id, secret_key=secret_key
        )
    except InvalidTag:  # the server's secret key changed since the client was made
        raise unauthorized(
            "this API client's secret can no longer be read; create it again"
        ) from None
    tokens.verify(token, secret=secret, client_id=client.id, now=now)
    if scope.value not in client.scope_set:
        raise PlatformError(403, f"this API client lacks the {scope.value!r} scope")
    count_request(session, client_id=client.id, now=now)
    return ClientCaller(client_id=client.id, workspace_id=client.workspace_id)


def count_request(session: Session, *, client_id: str, now: Micros) -> None:
    """One more request in each window; 429 past a limit. The caller's unit of work rolls
    back on the refusal, so a refused request is not counted."""
    table = table_of(ApiClientRequestCount)
    starts = {window: now - now % width for window, width, _ in LIMITS}
    statement = upsert_insert(session)(table).values(
        [
            {"client_id": client_id, "window": window, "window_start": start, "requests": 1}
            for window, start in starts.items()
        ]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["client_id", "window", "window_start"],
        set_={"requests": table.c.requests + 1},
    ).returning(table.c.window, table.c.requests)
    counts: dict[str, int] = dict(session.execute(statement).all())
    for window, _, limit in LIMITS:
        if counts[window] == 1:  # a new window: the ones before it are done with
            session.execute(
                delete(table).where(
                    table.c.client_id == client_id,
                    table.c.window == window,
                    table.c.window_start < starts[window],
                )
            )
        if counts[window] > limit:
            raise PlatformError(429, RATE_LIMITED)
