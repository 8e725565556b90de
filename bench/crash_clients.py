"""The crash test's clients: what a real client does when the server dies under it.

Each client is a thread with its own ``httpx`` client. A request is sent until it gets an
answer: after a connection error, a cut answer or a 5xx (the server was killed, or is
starting again) the same request goes out again; after a 429 it waits ``Retry-After``.
Ingest batches are sent again whole (the server recognises duplicates by id), add-funds
orders under the same ``Idempotency-Key``, wire confirmations as they were (a 409 "not
pending" then means the first one committed and its answer was lost: the order is read to
be sure). Everything answered is written to the :class:`Journal`, the expected side of
the check.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.soak_clients import now_micros, retry_after
from bench.soak_traffic import LOAD_APPS, Traffic

GIVE_UP = 180.0
"""Seconds one request may go unanswered (the server down included) before the run fails."""
RETRY_PAUSE = 0.05
"""Seconds between two sends of a request that got no answer: a client's quick retry."""
SAMPLES = 5


@dataclass
class Journal:
    """What the clients were answered, shared by their threads (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    batches: int = 0
    events: int = 0
    duplicates: int = 0
    """Events the server already had: a batch stored whose answer a kill cut off."""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key → the order answered for it (the last answer)."""
    replayed: int = 0
    """Orders answered ``Idempotent-Replayed``: placed before a kill, answer lost."""
    confirmed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Wire order id → the order once the operator's confirmation was answered."""
    confirmed_earlier: int = 0
    """Confirmations answered 409 because an earlier one committed unanswered."""
    payments_cut: int = 0
    """Orders and confirmations sent again because a kill cut them (same key, same body)."""
    resent: int = 0
    """Requests sent again after no answer."""
    server_errors: int = 0
    refusals: list[str] = field(default_factory=list)
    """Answers a correct request should never get (a 4xx other than 429, a 5xx)."""

    def refuse(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.refusals.append(f"{what}: {response.status_code} {response.text[:300]}")


class Sender:
    """One client's connection, and whether a request of it is out right now."""

    def __init__(self, url: str, key: str, journal: Journal) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        self.journal = journal
        self.in_flight = False
        self.cut = False
        """Whether the last request had to be sent again: a kill cut it."""

    def answer(self, method: str, url: str, what: str, **options: Any) -> httpx.Response:
        """The first answer that is neither a 429 nor a 5xx, sending again until then."""
        started = time.monotonic()
        last = "nothing"
        self.in_flight, self.cut = True, False
        try:
            while time.monotonic() - started < GIVE_UP:
                try:
                    response = self.http.request(method, url, **options)
                except httpx.HTTPError as error:
                    last = f"{type(error).__name__}: {error}"
                    pause = RETRY_PAUSE
                else:
                    last = f"{response.status_code} {response.text[:200]}"
                    if response.status_code == 429:
                        time.sleep(retry_after(response))
                        continue
                    if response.status_code < 500:
                        return response
                    with self.journal.lock:
                        self.journal.server_errors += 1
                    if self.journal.server_errors <= SAMPLES:
                        self.journal.refuse(what, response)
                    pause = RETRY_PAUSE
                self.cut = True
                with self.journal.lock:
                    self.journal.resent += 1
                time.sleep(pause)
        finally:
            self.in_flight = False
        raise TimeoutError(f"{what}: no answer for {GIVE_UP:.0f} s, the last: {last}")

    def close(self) -> None:
        self.http.close()


class Clients:
    """The ingest clients, the funder and the operator confirming wire transfers."""

    def __init__(
        self,
        url: str,
        *,
        key: str,
        operator_key: str,
        work: Path,
        seed: int,
        ingesters: int,
        order_pause: float,
    ) -> None:
        self.journal = Journal()
        self.stop_event = threading.Event()
        self.work, self.seed, self.order_pause = work, seed, order_pause
        self.wires: queue.Queue[str | None] = queue.Queue()
        self.failures: list[BaseException] = []
        self.senders = [Sender(url, key, self.journal) for _ in range(ingesters + 1)]
        self.operator = Sender(url, operator_key, self.journal)
        self.reader = Sender(url, key, self.journal)
        """The operator's look at an order after a 409 (an admin key reads it)."""
        roles: list[tuple[Any, tuple[Any, ...]]] = [
            (self.ingest, (sender, client)) for client, sender in enumerate(self.senders[:-1])
        ]
        roles += [(self.fund, (self.senders[-1],)), (self.confirm, (self.operator,))]
        self.threads = [
            threading.Thread(target=self._guarded, args=(role, args), daemon=True)
            for role, args in roles
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def in_flight(self) -> int:
        """Requests out right now: what a kill at this instant cuts."""
        return sum(sender.in_flight for sender in self._all())

    def await_payment(self, timeout: float) -> bool:
        """Wait until an order or a wire confirmation is out (``False`` if none was within
        ``timeout`` seconds): a kill aimed at a payment's transaction."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.senders[-1].in_flight or self.operator.in_flight:
                return True
            time.sleep(0.002)
        return False

    def _all(self) -> tuple[Sender, ...]:
        return (*self.senders, self.operator, self.reader)

    def stop(self) -> None:
        """No new work; every request already out is sent until it is answered."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(GIVE_UP * 2)
        for sender in self._all():
            sender.close()
        if self.failures:
            raise RuntimeError(f"a client failed: {self.failures[0]!r}") from self.failures[0]
        if any(thread.is_alive() for thread in self.threads):
            raise RuntimeError("a client did not finish")

    def _guarded(self, role: Any, args: tuple[Any, ...]) -> None:
        try:
            role(*args)
        except BaseException as error:  # reported by stop(), in the main thread
            self.failures.append(error)
            self.wires.put(None)

    def ingest(self, sender: Sender, client: int) -> None:
        """Batches of 500 (whole conversations and alerts), one after another; each body
        answered 200 is kept for the reference counts."""
        traffic = Traffic(client, seed=self.seed)
        with (self.work / f"acked-{client}.jsonl").open("wb") as acked:
            while not self.stop_event.is_set():
                body = traffic.body(now_micros())
                response = sender.answer(
                    "POST",
                    "/v1/events",
                    "POST /v1/events",
                    content=body,
                    headers={"Content-Type": "application/cloudevents-batch+json"},
                )
                if response.status_code != 200:
                    self.journal.refuse("POST /v1/events", response)
                    continue
                acked.write(body + b"\n")
                answer = response.json()
                with self.journal.lock:
                    self.journal.batches += 1
                    self.journal.events += answer["accepted"] + answer.get("duplicates", 0)
                    self.journal.duplicates += answer.get("duplicates", 0)

    def fund(self, sender: Sender) -> None:
        """An add-funds order every ``order_pause`` seconds, the apps in turn, one in three
        by wire; each under its own ``Idempotency-Key`` (drawn from the seed)."""
        rng = random.Random(self.seed)
        try:
            for number in itertools.count():
                if self.stop_event.wait(self.order_pause):
                    return
                app = LOAD_APPS[number % len(LOAD_APPS)].id
                body: dict[str, Any] = {"amount": rng.randrange(10_000, 50_001)}
                if number % 3 == 0:
                    body["payment_method"] = "wire"
                else:
                    body |= {"payment_method": "card", "token": "tok_ok"}
                key = f"crash-{self.seed}-{number}"
                what = f"POST /v1/apps/{app}/funds ({key})"
                response = sender.answer(
                    "POST",
                    f"/v1/apps/{app}/funds",
                    what,
                    json=body,
                    headers={"Idempotency-Key": key},
                )
                if response.status_code != 201:
                    self.journal.refuse(what, response)
                    continue
                order = response.json()
                with self.journal.lock:
                    self.journal.orders[key] = order
                    self.journal.replayed += response.headers.get("Idempotent-Replayed") == "true"
                    self.journal.payments_cut += sender.cut
                if order["payment_method"] == "wire":
                    self.wires.put(order["id"])
        finally:
            self.wires.put(None)

    def confirm(self, operator: Sender) -> None:
        """The operator confirms each wire order's transfer, once the funder placed it."""
        reader = self.reader
        while (order_id := self.wires.get()) is not None:
            what = f"POST /v1/orders/{order_id}/confirm-payment"
            response = operator.answer("POST", f"/v1/orders/{order_id}/confirm-payment", what)
            with self.journal.lock:
                self.journal.payments_cut += operator.cut
            if response.status_code == 409:
                response = reader.answer("GET", f"/v1/orders/{order_id}", f"GET {order_id}")
                if response.status_code == 200 and response.json()["payment_status"] == "paid":
                    with self.journal.lock:
                        self.journal.confirmed_earlier += 1
                        self.journal.confirmed[order_id] = response.json()
                    continue
            if response.status_code != 200:
                self.journal.refuse(what, response)
                continue
            with self.journal.lock:
                self.journal.confirmed[order_id] = response.json()
