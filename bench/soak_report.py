"""The soak's figures: per-route latencies, the targets, the table and the JSON."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from rich.console import Console
from rich.table import Table

from bench import soak_clients as clients

ROOT = Path(__file__).resolve().parent.parent
WORKERS = {"postgresql": 2, "sqlite": 1}
"""``botbill serve --workers`` on each database."""
INGEST_TARGET = {"postgresql": 10_000, "sqlite": 6_500}
"""Events/s accepted with the reads running (docs/benchmarks.md)."""
ROUTE_ORDER = (
    clients.EVENTS,
    clients.ENTITLEMENT,
    clients.PROBE,
    clients.USAGE_24H,
    clients.USAGE_7D,
    clients.BILLING_SESSIONS,
    clients.SUBSCRIPTION,
    clients.FUNDS,
)
console = Console(width=None if sys.stdout.isatty() else 120)


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest rank."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 2)


def route_figures(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, clients.RouteStats] = {}
    for result in results:
        for route, stats in result["routes"].items():
            merged.setdefault(route, clients.RouteStats()).merge(stats)
    table = {}
    for route in sorted(merged, key=lambda r: ROUTE_ORDER.index(r) if r in ROUTE_ORDER else 99):
        stats = merged[route]
        ordered = sorted(stats.latencies_ms)
        table[route] = {
            "requests": stats.requests,
            "throttled_429": stats.throttled,
            "errors": stats.errors,
            "exceptions": stats.exceptions,
            "p50_ms": percentile(ordered, 0.50),
            "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99),
            "max_ms": round(ordered[-1], 2) if ordered else None,
            "error_samples": stats.samples,
        }
    return table


class Load(NamedTuple):
    started: float
    """When the clients began (wall clock)."""
    results: list[dict[str, Any]]
    server_memory: dict[str, Any]
    server_log_errors: list[str]


def figures(
    kind: str,
    args: argparse.Namespace,
    load: Load,
    expected: dict[str, Any],
    server_side: dict[str, Any],
    mismatches: list[str],
    funds: dict[str, int],
) -> dict[str, Any]:
    ingests = [r for r in load.results if r["role"] == "ingest"]
    accepted = sum(r["accepted"] for r in ingests)
    seconds = max(r["ended"] for r in ingests) - load.started
    probe = next(r for r in load.results if r["role"] == "probe")
    routes = route_figures(load.results)
    unresolved = sum(r["unresolved_batches"] for r in ingests)
    if unresolved:
        mismatches.append(f"{unresolved} batches never answered: the counts cannot be exact")
    ingest = {
        "events_accepted": accepted,
        "duplicates": sum(r["duplicates"] for r in ingests),
        "batches": sum(r["batches"] for r in ingests),
        "refused_batches": sum(r["refused_batches"] for r in ingests),
        "seconds": round(seconds, 1),
        "events_per_s": round(accepted / seconds),
    }
    staleness = {k: v for k, v in probe.items() if k not in ("role", "routes")}
    return {
        "db": kind,
        "commit": commit(),
        "seconds": args.seconds,
        "server_workers": WORKERS[kind],
        "ingest_clients": args.ingesters,
        "ingest": ingest,
        "routes": routes,
        "staleness": staleness,
        "server_memory": load.server_memory,
        "server_log_errors": load.server_log_errors,
        "exactness": {
            "exact": not mismatches,
            "mismatches": mismatches,
            "expected": {app: counts.as_json() for app, counts in expected.items()},
            "server": server_side,
            "funds": funds,
        },
        "targets": targets(kind, routes, ingest, staleness, mismatches),
    }


def targets(
    kind: str,
    routes: dict[str, dict[str, Any]],
    ingest: dict[str, Any],
    staleness: dict[str, Any],
    mismatches: list[str],
) -> dict[str, bool]:
    def within(route: str, p95: float, p99: float) -> bool:
        figures = routes.get(route)
        return bool(figures and figures["p95_ms"] is not None) and (
            figures["p95_ms"] <= p95 and figures["p99_ms"] <= p99  # type: ignore[index]
        )

    reads = (clients.USAGE_24H, clients.USAGE_7D, clients.BILLING_SESSIONS)
    return {
        "entitlement p95 <= 20 ms, p99 <= 50 ms": within(clients.ENTITLEMENT, 20, 50),
        "usage and billing sessions p95 <= 100 ms, p99 <= 250 ms": all(
            within(route, 100, 250) for route in reads
        ),
        "no error but 429 with Retry-After": all(
            r["errors"] == 0 and r["exceptions"] == 0 for r in routes.values()
        ),
        "entitlement staleness <= 5 s": staleness.get("staleness_s", math.inf) <= 5,
        "exact counts and balances": not mismatches,
        f"ingest >= {INGEST_TARGET[kind]:,} events/s": (
            ingest["events_per_s"] >= INGEST_TARGET[kind]
        ),
    }


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    head = git("rev-parse", "--short=12", "HEAD").strip()
    dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    return head + ("+uncommitted changes" if dirty else "")


def report(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['db']}: {result['seconds']:.0f} s at {result['commit']}")
    for column in ("route", "requests", "429s", "errors", "exceptions"):
        table.add_column(column, justify="left" if column == "route" else "right")
    for column in ("p50", "p95", "p99", "max"):
        table.add_column(f"{column} ms", justify="right")
    for route, f in result["routes"].items():
        table.add_row(
            route,
            f"{f['requests']:,}",
            f"{f['throttled_429']:,}",
            f"{f['errors']:,}",
            f"{f['exceptions']:,}",
            *(
                "-" if f[name] is None else f"{f[name]:.1f}"
                for name in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
            ),
        )
    console.print(table)
    ingest, stale, memory = result["ingest"], result["staleness"], result["server_memory"]
    console.print(
        f"ingest: {ingest['events_accepted']:,} events accepted in {ingest['seconds']} s ="
        f" [bold]{ingest['events_per_s']:,} events/s[/bold]"
        f" ({ingest['batches']:,} batches, {ingest['refused_batches']} refused)"
    )
    if "staleness_s" in stale:
        as_of = f", as_of {stale['as_of']}" if "as_of" in stale else ""
        console.print(
            f"entitlement staleness: [bold]{stale['staleness_s']:.2f} s[/bold] from the alerts'"
            f" acknowledgement to the first answer saying insufficient_funds (poll"
            f" {stale['polls']}, asked {stale['asked_after_s']:.2f} s after it{as_of})"
        )
    else:
        console.print(f"entitlement staleness: [red]not measured[/red] ({stale})")
    console.print(
        f"server memory: peak RSS {memory['peak_rss_mb_sum']} MB summed over"
        f" {memory['processes']} processes ({memory['peak_rss_mb_per_process']} MB),"
        f" largest total seen {memory['largest_total_rss_mb']} MB"
    )
    errors = result["server_log_errors"]
    console.print(f"server log: {len(errors)} errors", highlight=False)
    for line in errors[:3]:
        console.print(f"  {line}", highlight=False)
    exact = result["exactness"]
    if exact["exact"]:
        total = exact["server"]["all apps"]
        console.print(
            "exactness: [green]every count and balance matches[/green]"
            f" ({total['usage_sessions']:,} usage, {total['alert_sessions']:,} alert,"
            f" {total['voice_sessions']:,} voice sessions, {total['agents']} agents)"
        )
    else:
        console.print(f"exactness: [red]{len(exact['mismatches'])} mismatches[/red]")
        for line in exact["mismatches"]:
            console.print(f"  {line}", highlight=False)
    for name, met in result["targets"].items():
        console.print(f"  {'[green]met' if met else '[red]missed'}[/] {name}", highlight=False)
