"""The sender: claims due deliveries, posts them signed, and records each attempt.

Safe with several processes: a delivery is claimed in a short transaction (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; SQLite's single writer elsewhere) that pushes its due time
forward by a lease and stamps a claim token; the POST happens after that transaction
committed, holding no lock; the attempt is recorded only by the holder of the token. A
second sender sees the delivery as not due until the lease ends, so no delivery is sent
by two senders at once, and a sender that dies mid-attempt leaves a delivery that is
tried again when its lease ends.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select, update

from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from botbill.webhooks.outbox import FAILED, PENDING, SUCCEEDED
from botbill.webhooks.schedule import SECOND, next_attempt
from botbill.webhooks.signing import body_of, signed_headers
from botbill.webhooks.urls import address_refusal

TIMEOUT_SECONDS = 15.0
LEASE: Micros = 60 * SECOND
"""How long a claimed delivery is held: longer than an attempt can take (the timeout),
so a live sender always records before another may claim it."""
BATCH = 32
USER_AGENT = "botbill-webhooks/1"

Resolver = Callable[[str, int], Sequence[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address DNS gives ``host`` now (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery held by this sender, with everything its POST needs."""

    delivery_id: str
    claim: str
    attempts: int
    """Attempts made before this one."""
    url: str
    secret: str
    event_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Attempt:
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def anything_due(engine: Engine, *, now: Micros) -> bool:
    """A read before the claim's write: on SQLite an idle sender then never takes the
    database's write lock, which ingest waits on."""
    with unit_of_work(engine, write=False) as session:
        found = session.scalar(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
            )
            .limit(1)
        )
    return found is not None


def claim_due(engine: Engine, *, now: Micros, limit: int = BATCH) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of enabled endpoints, oldest due first."""
    if not anything_due(engine, now=now):
        return []
    token = secrets.token_hex(8)
    with unit_of_work(engine, write=True) as session:
        rows = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.attempts,
                WebhookEndpoint.url,
                WebhookEndpoint.secret,
                WebhookEvent.id,
                WebhookEvent.type,
                WebhookEvent.occurred_at,
                WebhookEvent.data,
            )
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        ).all()
        if not rows:
            return []
        ids = [row[0] for row in rows]
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(next_attempt_at=now + LEASE, claim=token)
        )
    return [
        Claimed(
            delivery_id=delivery_id,
            claim=token,
            attempts=attempts,
            url=url,
            secret=secret,
            event_id=event_id,
            body=body_of(event_type, occurred_at, data),
        )
        for delivery_id, attempts, url, secret, event_id, event_type, occurred_at, data in rows
    ]


def attempt(
    client: httpx.Client,
    claimed: Claimed,
    *,
    now: Micros,
    production: bool,
    resolver: Resolver = resolve,
) -> Attempt:
    """POST one delivery; never raises for anything the receiver or network does."""
    parts = urlsplit(claimed.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if production:
        refusal = address_refusal(resolver(host, port), production=True)
        if refusal is not None:
            return Attempt(None, f"refused: {refusal}")
    headers = signed_headers(claimed.secret, claimed.event_id, now, claimed.body)
    headers["user-agent"] = USER_AGENT
    try:
        with client.stream("POST", claimed.url, content=claimed.body, headers=headers) as answer:
            return Attempt(answer.status_code, None)
    except httpx.HTTPError as error:
        return Attempt(None, f"{type(error).__name__}: {error}"[:300])


def record_attempt(engine: Engine, claimed: Claimed, outcome: Attempt, *, now: Micros) -> None:
    """Book the attempt, if this sender still holds the delivery: success, the next try
    on the schedule, or ``failed`` after the last."""
    attempts = claimed.attempts + 1
    if outcome.succeeded:
        status, due = SUCCEEDED, None
    else:
        due = next_attempt(attempts, now)
        status = PENDING if due is not None else FAILED
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claimed.delivery_id,
                WebhookDelivery.claim == claimed.claim,
            )
            .values(
                status=status,
                attempts=attempts,
                next_attempt_at=due,
                claim=None,
                last_attempt_at=now,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
            )
        )


def new_client() -> httpx.Client:
    """Redirects are not followed: the address was checked for the URL given, and a
    redirect is a receiver's answer like any other (not 2xx)."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)


def deliver_due(
    engine: Engine,
    client: httpx.Client,
    *,
    now: Micros,
    production: bool,
    resolver: Resolver = resolve,
    limit: int = BATCH,
    concurrency: int = 8,
) -> int:
    """One delivery pass: claim what is due at ``now``, send it (up to ``concurrency``
    at once, so one slow receiver does not hold up the rest), record every attempt.
    Returns how many deliveries were attempted."""
    claimed = claim_due(engine, now=now, limit=limit)

    def send(one: Claimed) -> None:
        outcome = attempt(client, one, now=now, production=production, resolver=resolver)
        record_attempt(engine, one, outcome, now=now)

    if len(claimed) <= 1 or concurrency <= 1:
        for one in claimed:
            send(one)
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(claimed))) as pool:
            list(pool.map(send, claimed))
    return len(claimed)
