"""The soak's client processes: ingest, readers, entitlement checks, funds, the probe.

Each role runs in its own process with its own ``httpx`` client and puts one result on
the queue when it stops. Latencies are those of 2xx answers; every other answer is
counted by kind (429 with ``Retry-After``, any other non-2xx, an exception).
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event, Semaphore
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.soak_traffic import LOAD_APPS, PROBE_ALERTS, PROBE_APP, Traffic, alert_burst, iso
from botbill.kit.clock import SystemClock
from botbill.kit.instants import HOUR, SECOND

EVENTS = "POST /v1/events"
ENTITLEMENT = "GET /v1/apps/{id}/entitlement"
PROBE = "GET /v1/apps/{id}/entitlement (probe)"
FUNDS = "POST /v1/apps/{id}/funds"
USAGE_24H = "GET /v1/usage?range=24h"
USAGE_7D = "GET /v1/usage?range=7d&app_id"
BILLING_SESSIONS = "GET /v1/billing-sessions"
SUBSCRIPTION = "GET /v1/apps/{id}/subscription"
GIVE_UP = 120.0
"""Seconds an ingest client keeps sending one batch again after the load has stopped."""


def now_micros() -> int:
    return SystemClock().now()


def wait_for_start(signals: Signals) -> None:
    signals.ready.release()
    signals.go.wait()


@dataclass(frozen=True)
class Target:
    """What every client needs to reach the server, and when to stop."""

    url: str
    key: str
    work: Path
    read_pause: float
    funds_every: float
    probe_after: float
    """Seconds into the load when the probe exhausts its app's funds."""


@dataclass(frozen=True)
class Signals:
    """Each client releases ``ready`` once it is up, waits for ``go``, and ends its work
    when ``stop`` is set."""

    ready: Semaphore
    go: Event
    stop: Event


@dataclass
class RouteStats:
    requests: int = 0
    throttled: int = 0
    errors: int = 0
    exceptions: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    """The first few errors, for the report."""

    def merge(self, other: RouteStats) -> None:
        self.requests += other.requests
        self.throttled += other.throttled
        self.errors += other.errors
        self.exceptions += other.exceptions
        self.latencies_ms += other.latencies_ms
        self.samples += other.samples[: max(0, 5 - len(self.samples))]


class Recorder:
    def __init__(self, target: Target, *, timeout: float = 60) -> None:
        self.routes: dict[str, RouteStats] = {}
        self.http = httpx.Client(
            base_url=target.url,
            headers={"Authorization": f"Bearer {target.key}"},
            timeout=timeout,
        )

    def call(
        self, route: str, method: str, url: str, **options: Any
    ) -> tuple[httpx.Response | None, float]:
        """The answer (None after an exception) and the instant it arrived (wall clock)."""
        stats = self.routes.setdefault(route, RouteStats())
        stats.requests += 1
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, **options)
        except httpx.HTTPError as error:
            stats.exceptions += 1
            if len(stats.samples) < 5:
                stats.samples.append(f"{type(error).__name__}: {error}")
            return None, time.time()
        arrived = time.time()
        if response.status_code == 429 and "retry-after" in response.headers:
            stats.throttled += 1
        elif not response.is_success:
            stats.errors += 1
            if len(stats.samples) < 5:
                stats.samples.append(f"{response.status_code}: {response.text[:300]}")
        else:
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        return response, arrived


def retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except ValueError:
        return 1.0


def post_until_acknowledged(
    recorder: Recorder, body: bytes, *, stop: Event
) -> tuple[dict[str, Any] | None, float]:
    """Send one batch until it is answered 200, as a client would: after a 429 wait its
    ``Retry-After``, after an exception or a 5xx send the same events again (duplicates
    are recognised by id); a 4xx other than 429 refused the batch whole, so give it up.
    Gives up, too, ``GIVE_UP`` seconds after the load stopped."""
    stopped_at: float | None = None
    while True:
        response, arrived = recorder.call(
            EVENTS,
            "POST",
            "/v1/events",
            content=body,
            headers={"Content-Type": "application/cloudevents-batch+json"},
        )
        if response is not None and response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer, arrived
        if response is not None and 400 <= response.status_code < 500:
            throttled = response.status_code == 429 and "retry-after" in response.headers
            if not throttled:
                return None, arrived
        if stop.is_set():
            stopped_at = stopped_at or time.monotonic()
            if time.monotonic() - stopped_at > GIVE_UP:
                raise TimeoutError("a batch was never acknowledged")
        time.sleep(retry_after(response) if response is not None else 1.0)


def ingest(target: Target, client: int, signals: Signals, results: Queue[Any]) -> None:
    """Batches of 500 flat out; every acknowledged body is kept for the exactness check."""
    wait_for_start(signals)
    stop = signals.stop
    recorder = Recorder(target)
    traffic = Traffic(client)
    accepted = duplicates = batches = refused = unresolved = 0
    started = time.time()
    with (target.work / f"acked-{client}.jsonl").open("wb") as acked:
        while not stop.is_set():
            body = traffic.body(now_micros())
            try:
                answer, _ = post_until_acknowledged(recorder, body, stop=stop)
            except TimeoutError:
                unresolved += 1
                break
            if answer is None:
                refused += 1
                continue
            acked.write(body + b"\n")
            accepted += answer["accepted"]
            duplicates += answer.get("duplicates", 0)
            batches += 1
    results.put(
        {
            "role": "ingest",
            "routes": recorder.routes,
            "accepted": accepted,
            "duplicates": duplicates,
            "batches": batches,
            "refused_batches": refused,
            "unresolved_batches": unresolved,
            "started": started,
            "ended": time.time(),
        }
    )


def reader(target: Target, signals: Signals, results: Queue[Any]) -> None:
    """The dashboard's reads, one after another with a short pause between them."""
    wait_for_start(signals)
    stop = signals.stop
    recorder = Recorder(target)
    apps = itertools.cycle(app.id for app in LOAD_APPS)
    while not stop.is_set():
        app = next(apps)
        now = now_micros()
        window = {"from": iso(now - 6 * HOUR), "to": iso(now), "limit": "100"}
        for route, url, params in (
            (USAGE_24H, "/v1/usage", {"range": "24h"}),
            (USAGE_7D, "/v1/usage", {"range": "7d", "app_id": app}),
            (BILLING_SESSIONS, "/v1/billing-sessions", window),
            (SUBSCRIPTION, f"/v1/apps/{app}/subscription", {}),
        ):
            recorder.call(route, "GET", url, params=params)
            time.sleep(target.read_pause)
    results.put({"role": "reader", "routes": recorder.routes})


def checker(target: Target, signals: Signals, results: Queue[Any]) -> None:
    """``GET …/entitlement`` in a tight loop over the load apps, as a runtime before each
    user."""
    wait_for_start(signals)
    stop = signals.stop
    recorder = Recorder(target)
    apps = itertools.cycle(app.id for app in LOAD_APPS)
    while not stop.is_set():
        recorder.call(ENTITLEMENT, "GET", f"/v1/apps/{next(apps)}/entitlement")
    results.put({"role": "checker", "routes": recorder.routes})


FUNDS_AMOUNT = 100_000


def funder(target: Target, signals: Signals, results: Queue[Any]) -> None:
    """Funds now and then, each order sent again under its idempotency key until it is
    answered, so that what was credited is known."""
    wait_for_start(signals)
    stop = signals.stop
    recorder = Recorder(target)
    credited: dict[str, int] = {}
    apps = itertools.cycle(app.id for app in LOAD_APPS)
    while not stop.wait(target.funds_every):
        app, key = next(apps), str(uuid.uuid4())
        for _ in range(10):
            response, _ = recorder.call(
                FUNDS,
                "POST",
                f"/v1/apps/{app}/funds",
                json={"amount": FUNDS_AMOUNT, "payment_method": "card", "token": "tok_ok"},
                headers={"Idempotency-Key": key},
            )
            if response is not None and response.status_code == 201:
                credited[app] = credited.get(app, 0) + response.json()["amount"]
                break
            if response is not None and response.status_code != 429:
                break
            time.sleep(retry_after(response) if response is not None else 1.0)
    results.put({"role": "funder", "routes": recorder.routes, "credited": credited})


def probe(target: Target, signals: Signals, results: Queue[Any]) -> None:
    """Entitlement staleness: exhaust the probe app's funds with alerts, then poll its
    entitlement until it says ``insufficient_funds``."""
    wait_for_start(signals)
    stop = signals.stop
    recorder = Recorder(target, timeout=30)
    app = PROBE_APP.id
    outcome: dict[str, Any] = {"role": "probe"}
    if not stop.wait(target.probe_after):
        before, _ = recorder.call(PROBE, "GET", f"/v1/apps/{app}/entitlement")
        outcome["before"] = before.json() if before is not None else None
        events = alert_burst(app, PROBE_ALERTS, now_micros(), source="soak-probe")
        body = orjson.dumps(events)
        try:
            answer, acknowledged = post_until_acknowledged(recorder, body, stop=stop)
        except TimeoutError:
            answer, acknowledged = None, time.time()
        if answer is not None:
            (target.work / "acked-probe.jsonl").write_bytes(body + b"\n")
            outcome |= poll_entitlement(recorder, app, acknowledged)
        else:
            outcome["error"] = "the alert batch was refused or never answered"
    results.put(outcome | {"routes": recorder.routes})


def poll_entitlement(recorder: Recorder, app: str, acknowledged: float) -> dict[str, Any]:
    polls = 0
    while time.time() - acknowledged < 120:
        asked = time.time()
        response, arrived = recorder.call(PROBE, "GET", f"/v1/apps/{app}/entitlement")
        polls += 1
        if response is not None and response.is_success and not response.json()["active"]:
            answer = response.json()
            figures: dict[str, Any] = {
                "staleness_s": round(arrived - acknowledged, 3),
                "asked_after_s": round(asked - acknowledged, 3),
                "polls": polls,
                "answer": answer,
                "acknowledged_at": iso(round(acknowledged * SECOND)),
            }
            if "as_of" in answer:
                figures["as_of"] = answer["as_of"]
            return figures
        time.sleep(0.01)
    return {"error": "still active 120 s after the alerts were acknowledged", "polls": polls}
