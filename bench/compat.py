"""The compatibility API's usage summary, beside ``/v1/usage`` on the same data.

    python -m bench.compat                     # 1M events, 500 apps, 90 days
    python -m bench.compat --events 200000 --db sqlite

A 500-app workspace is imported with ``botbill import``; then, against ``botbill serve``
(jobs off, as bench.run times its queries), each client POSTs a 90-day summary by day
and the status GET is timed, beside ``GET /v1/usage`` over the same 90 days by day.
Each API client may make 60 requests a minute, so the timed GETs are spread over
several clients. Nothing here asserts a timing: the figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.dataset import bench_apps, events, write
from bench.run import (
    Database,
    Server,
    import_file,
    log,
    make_workspace,
    now_micros,
    percentiles,
)
from botbill.kit.instants import SECOND

APPS = 500
DAYS = 90
PER_CLIENT = 50
"""Timed status GETs per API client: under its 60 a minute with its POST and warm-up."""


def dates() -> tuple[str, str]:
    """Today and 89 days before it (UTC): a 90-day range, both ends inclusive."""
    today = time.gmtime()
    start = time.gmtime(time.time() - 89 * 86400)
    return time.strftime("%Y-%m-%d", start), time.strftime("%Y-%m-%d", today)


def new_client(http: httpx.Client, key: str) -> dict[str, str]:
    """A fresh API client's headers, as a platform script sends them."""
    response = http.post(
        "/v1/api-clients", json={"name": "bench"}, headers={"Authorization": f"Bearer {key}"}
    )
    response.raise_for_status()
    issued = response.json()
    claims = {"sub": "bench", "appId": issued["client_id"]}
    signed = jwt.encode(claims, issued["client_secret"], "HS256")
    return {"auth": signed, "content-type": "application/json"}


def time_summaries(
    http: httpx.Client, key: str, *, grouped: bool, rounds: int
) -> tuple[list[float], dict[str, Any]]:
    """Status GET latencies (ms) of a 90-day summary by day, and the last answer."""
    frm, to = dates()
    body = {
        "fromDate": frm,
        "toDate": to,
        "unitType": ["session", "request", "alert", "proactive", "conversations"],
        "groupByBot": "yes" if grouped else "no",
        "groupByPeriod": "date_day",
    }
    timings: list[float] = []
    answer: dict[str, Any] = {}
    while len(timings) < rounds:
        headers = new_client(http, key)
        http.post("/api/public/bots/billingsessionsummary", json=body, headers=headers)
        for index in range(PER_CLIENT + 2):
            started = time.perf_counter()
            response = http.get(
                "/api/public/bots/billingsessionsummary/status",
                params={"type": "summary"},
                headers=headers,
            )
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            answer = response.json()
            if index >= 2:  # the first two warm caches
                timings.append(elapsed)
    return timings[:rounds], answer


def time_usage(http: httpx.Client, key: str, *, rounds: int) -> list[float]:
    frm, to = dates()
    params = {"range": "custom", "from": frm, "to": to, "granularity": "day", "tz": "UTC"}
    timings: list[float] = []
    for index in range(rounds + 3):
        started = time.perf_counter()
        response = http.get("/v1/usage", params=params, headers={"Authorization": f"Bearer {key}"})
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        if index >= 3:
            timings.append(elapsed)
    return timings


def measure(db: Database, data: Path, rounds: int) -> dict[str, Any]:
    apps = [app.id for app in bench_apps(APPS)]
    workspace_id, key = make_workspace(db, apps)
    _, seconds, imported = import_file(db, workspace_id, data)
    log(f"[{db.kind}] imported {imported:,} events in {seconds:.0f} s")
    figures: dict[str, Any] = {"db": db.kind, "events": imported, "apps": APPS, "days": DAYS}
    with Server(db, jobs=False) as server, httpx.Client(base_url=server.url) as http:
        usage = time_usage(http, key, rounds=rounds)
        flat, answer = time_summaries(http, key, grouped=False, rounds=rounds)
        # Grouped by bot answers every bot's every day: fewer rounds, for information.
        by_bot, by_bot_answer = time_summaries(http, key, grouped=True, rounds=PER_CLIENT)
    periods = len(answer["response"]["data"][0]["val"])
    for name, timings in (
        ("summary_status", flat),
        ("summary_status_by_bot", by_bot),
        ("usage_90d_by_day", usage),
    ):
        p50, p95 = percentiles(timings)
        figures[f"{name}_p50_ms"] = round(p50, 2)
        figures[f"{name}_p95_ms"] = round(p95, 2)
        log(f"[{db.kind}] {name:>22}: p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    figures["summary_periods"] = periods
    figures["summary_bots_grouped"] = len(by_bot_answer["response"]["data"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="botbill-bench-compat-"))
    databases: list[Database] = []
    try:
        data = work / "events.jsonl"
        now = now_micros() - 10 * 60 * SECOND
        count = write(data, events(apps=bench_apps(APPS), now=now, days=DAYS, target=args.events))
        log(f"generated {count:,} events for {APPS} apps over {DAYS} days")
        for kind in args.db.split(","):
            db = Database(kind, work, "compat")
            databases.append(db)
            print(json.dumps(measure(db, data, args.rounds)), flush=True)
    finally:
        for db in databases:
            db.drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
