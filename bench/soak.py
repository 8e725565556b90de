"""botbill's soak: a server under mixed load for a bounded time, then exact counts.

    python -m bench.soak                      # make soak: 60 s on PostgreSQL, then SQLite
    python -m bench.soak --quick              # 15 s on each
    python -m bench.soak --db sqlite --seconds 30

For each database, ``botbill serve`` (2 workers on PostgreSQL, 1 on SQLite, background
jobs on) takes batches of 500 events flat out from the ingest clients while readers,
entitlement checks and add-funds run beside them; mid-way, a probe app's funds are
exhausted by alerts and its entitlement polled until it stops. Then the clients stop, the
server's jobs catch up, and every count and balance is compared with what the pure rules
give for the events the server acknowledged. Prints a table per database, writes a JSON
file under bench/out/, and exits non-zero when any count or balance differs. A benchmark,
not a test: docs/benchmarks.md has the targets and the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import soak_clients as clients
from bench.run import Database, botbill
from bench.soak_check import acknowledged_events, compare, expected_counts, settle, window_for
from bench.soak_report import WORKERS, Load, console, figures, report
from bench.soak_server import PeakMemory, Server, log_errors
from bench.soak_traffic import LOAD_APPS, PROBE_APP, PROBE_FUNDS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LOAD_FUNDS = 2_000_000
"""Each load app's first order: the largest one order may be."""
STARTED = time.monotonic()


def log(message: str) -> None:
    console.print(f"[dim]{time.monotonic() - STARTED:5.0f} s[/dim]  {message}", highlight=False)


# --- one database ------------------------------------------------------------------------


def create_apps(http: httpx.Client) -> dict[str, int]:
    """The load apps funded with the largest order, the probe app with the smallest;
    returns what each was credited."""
    funds = {}
    for app, amount in [(app, LOAD_FUNDS) for app in LOAD_APPS] + [(PROBE_APP, PROBE_FUNDS)]:
        http.post(
            "/v1/apps",
            json={
                "id": app.id,
                "name": app.id,
                "idle_timeout_minutes": app.idle_timeout_minutes,
                "plan": "standard",
            },
        ).raise_for_status()
        order = http.post(
            f"/v1/apps/{app.id}/funds",
            json={"amount": amount, "payment_method": "card", "token": "tok_ok"},
        ).raise_for_status()
        funds[app.id] = order.json()["amount"]
    return funds


def run_load(
    target: clients.Target, *, ingesters: int, seconds: float
) -> tuple[float, list[dict[str, Any]]]:
    """Every client process, started together once all are up, for ``seconds``; the
    instant they started (wall clock) and their results."""
    context = multiprocessing.get_context("spawn")
    signals = clients.Signals(context.Semaphore(0), context.Event(), context.Event())
    results: Any = context.Queue()
    roles: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (clients.ingest, (target, client, signals, results)) for client in range(ingesters)
    ]
    roles += [
        (role, (target, signals, results))
        for role in (clients.reader, clients.checker, clients.funder, clients.probe)
    ]
    # Daemons: should this process fail, its clients end with it.
    processes = [context.Process(target=role, args=args, daemon=True) for role, args in roles]
    for process in processes:
        process.start()
    for _ in processes:
        if not signals.ready.acquire(timeout=120):
            raise RuntimeError("a client process did not start")
    started = time.time()
    signals.go.set()
    signals.stop.wait(seconds)
    signals.stop.set()
    log(f"load stopped after {seconds:.0f} s; waiting for the clients' last requests")
    collected: list[dict[str, Any]] = []
    while len(collected) < len(processes):
        try:
            collected.append(results.get(timeout=1))
        except queue.Empty:
            if not any(process.is_alive() for process in processes) and results.empty():
                missing = len(processes) - len(collected)
                raise RuntimeError(f"{missing} client processes ended without a result") from None
    for process in processes:
        process.join()
    return started, collected


def soak(kind: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True)
    db = Database(kind, work, "soak")
    try:
        # UTC: the exactness check counts seat-days by UTC day.
        created = botbill(db, "workspace", "create", "Soak", "--timezone", "UTC", "--json")
        key = json.loads(created)["api_key"]
        server = Server(db, workers=WORKERS[kind], log_path=work / "server.log")
        with (
            server,
            PeakMemory(server.process.pid) as memory,
            httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
            ) as http,
        ):
            log(f"[{kind}] botbill serve --workers {WORKERS[kind]} ready on {server.url}")
            funds = create_apps(http)
            target = clients.Target(
                url=server.url,
                key=key,
                work=work,
                read_pause=args.read_pause,
                funds_every=args.funds_every,
                probe_after=args.seconds / 2,
            )
            log(f"[{kind}] {len(funds)} apps funded; the load runs for {args.seconds:.0f} s")
            started, results = run_load(target, ingesters=args.ingesters, seconds=args.seconds)
            now = clients.now_micros()
            window = window_for(now)
            settled = settle(http, window)
            log(f"[{kind}] the server's counts and balances held still after {settled:.0f} s")
            for result in results:
                for app, amount in result.get("credited", {}).items():
                    funds[app] += amount
            idle = {app.id: app.idle_timeout_minutes for app in (*LOAD_APPS, PROBE_APP)}
            expected = expected_counts(
                acknowledged_events(work), idle, now=clients.now_micros(), window=window
            )
            mismatches, server_side = compare(http, expected, funds, window)
        load = Load(started, results, memory.figures(), log_errors(server.log_path))
        return figures(kind, args, load, expected, server_side, mismatches, funds)
    finally:
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=60.0, help="load per database")
    parser.add_argument("--quick", action="store_true", help="15 s per database")
    parser.add_argument("--ingesters", type=int, default=2, help="ingest client processes")
    parser.add_argument(
        "--read-pause", type=float, default=0.05, help="seconds between a reader's requests"
    )
    parser.add_argument("--funds-every", type=float, default=5.0, help="seconds between orders")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 15.0
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    work = Path(tempfile.mkdtemp(prefix="botbill-soak-"))
    results = []
    try:
        for kind in kinds:
            result = soak(kind, args, work / kind)
            report(result)
            results.append(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"soak-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    log(f"figures written to {path.relative_to(ROOT)}")
    if any(not result["exactness"]["exact"] for result in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
