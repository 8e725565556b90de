"""The crash test's webhook side: a receiver the server delivers to, and the check that
nothing was announced for a change that did not commit.

The workspace has one endpoint for ``order.paid`` and ``invoice.issued`` pointing at the
receiver (a thread of the test's own process, which outlives every kill). A change and its
announcement share one transaction (the outbox), so after any number of kills each paid
order is announced exactly once, each issued invoice too, and every announcement names an
order that is paid and an invoice that is issued. Deliveries are at least once: a kill
between a delivery's send and its bookkeeping sends it again under the same
``webhook-id``, which the receiver counts but does not hold against the server.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from botbill.invoicing.models import Invoice
from botbill.orders.models import Order
from botbill.webhooks.models import WebhookEvent

ANNOUNCED = ("order.paid", "invoice.issued")


class Receiver:
    """A local endpoint that verifies each delivery's signature and keeps it by id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: dict[str, dict[str, Any]] = {}
        self.repeats = 0
        self.forged = 0
        self.verifier: Webhook | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.take(body, {name.lower(): value for name, value in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass  # the run prints its own lines

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def subscribe(self, http: httpx.Client) -> None:
        """The workspace's endpoint for the announcements the check follows."""
        created = http.post(
            "/v1/webhook-endpoints",
            json={"url": self.url, "event_types": list(ANNOUNCED), "description": "crash test"},
        ).raise_for_status()
        self.verifier = Webhook(created.json()["secret"])

    def take(self, body: bytes, headers: dict[str, str]) -> None:
        assert self.verifier is not None  # subscribed before any change is made
        try:
            self.verifier.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.forged += 1
            return
        with self.lock:
            if headers["webhook-id"] in self.received:
                self.repeats += 1
            self.received[headers["webhook-id"]] = orjson.loads(body)


def check_announcements(session: Session, workspace_id: str, receiver: Receiver) -> list[str]:
    """Each paid order and each issued invoice announced once; every announcement (stored
    or delivered) names a change that committed."""
    events = {
        event.id: event
        for event in session.scalars(
            select(WebhookEvent).where(WebhookEvent.workspace_id == workspace_id)
        )
    }
    orders = {
        order.id: order
        for order in session.scalars(select(Order).where(Order.workspace_id == workspace_id))
    }
    invoices = {
        invoice.id: invoice
        for invoice in session.scalars(select(Invoice).where(Invoice.workspace_id == workspace_id))
    }
    problems = []
    paid = Counter(e.data["order_id"] for e in events.values() if e.type == "order.paid")
    issued = Counter(e.data["invoice_id"] for e in events.values() if e.type == "invoice.issued")
    for order in orders.values():
        want = 1 if order.payment_status == "paid" else 0
        if paid.get(order.id, 0) != want:
            problems.append(
                f"order {order.id} ({order.payment_status}) announced paid "
                f"{paid.get(order.id, 0)} times"
            )
    for invoice in invoices.values():
        if issued.get(invoice.id, 0) != 1:
            problems.append(f"invoice {invoice.number} announced {issued.get(invoice.id, 0)} times")
    problems += [f"order.paid for an order not stored: {o}" for o in set(paid) - set(orders)]
    problems += [f"invoice.issued for no invoice: {i}" for i in set(issued) - set(invoices)]
    with receiver.lock:
        received = dict(receiver.received)
        forged = receiver.forged
    if forged:
        problems.append(f"{forged} deliveries failed their signature check")
    for webhook_id, payload in received.items():
        problems += _delivered(webhook_id, payload, events, orders, invoices)
    return problems


def _delivered(
    webhook_id: str,
    payload: Mapping[str, Any],
    events: Mapping[str, WebhookEvent],
    orders: Mapping[str, Order],
    invoices: Mapping[str, Invoice],
) -> list[str]:
    """A delivery is of a stored event, and says what the database holds."""
    if webhook_id not in events:
        return [f"delivered {webhook_id} ({payload.get('type')}) was never stored"]
    data = payload["data"]
    if payload["type"] == "order.paid":
        order = orders.get(data["order_id"])
        if order is None or order.payment_status != "paid":
            return [f"delivered order.paid for {data['order_id']}, which is not paid"]
    if payload["type"] == "invoice.issued":
        invoice = invoices.get(data["invoice_id"])
        if invoice is None or invoice.number != data["number"]:
            return [f"delivered invoice.issued {data['number']}, which is not stored so"]
    return []
