"""botbill's benchmark: ingest, usage queries and import memory, beside baselines.

    python -m bench.run --size quick     # make bench-quick (about 1M events)
    python -m bench.run --size full      # make bench      (about 5M events)

Each database (SQLite, then PostgreSQL) gets the same measurements; the last line printed
is one JSON object with SQLite's figures. Nothing here asserts a timing: the figures are
recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zlib import crc32

import httpx
import orjson
import psycopg

from bench.dataset import bench_apps, events, write
from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.demo.traffic import DemoApp
from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.kit.instants import DAY, SECOND

ROOT = Path(__file__).resolve().parent.parent
BOTBILL = str(Path(sys.executable).parent / "botbill")
T = TypeVar("T")
R = TypeVar("R")
PG_ADMIN = os.environ.get("BOTBILL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


FIELD_ORDER = (
    "db",
    "ingest_events_per_s",
    "ingest_baseline_events_per_s",
    "ingest_baseline_ratio",
    "usage_p95_ms",
    "usage_vs_raw_speedup",
    "usage_growth_ratio",
    "import_peak_rss_mb",
    "usage_events",
)


@dataclass(frozen=True)
class Size:
    usage_events: int
    apps: int
    days: int
    ingest_events: int
    query_rounds: int


SIZES = {
    "smoke": Size(usage_events=50_000, apps=50, days=90, ingest_events=20_000, query_rounds=5),
    "quick": Size(
        usage_events=1_000_000, apps=500, days=90, ingest_events=100_000, query_rounds=40
    ),
    "full": Size(
        usage_events=5_000_000, apps=500, days=90, ingest_events=300_000, query_rounds=100
    ),
}


def now_micros() -> int:
    return SystemClock().now()


STARTED = time.monotonic()


def log(message: str) -> None:
    """A progress line on stderr, stamped with the seconds since the run began."""
    print(f"{time.monotonic() - STARTED:5.0f} s  {message}", file=sys.stderr, flush=True)


# --- databases ---------------------------------------------------------------------------


class Database:
    def __init__(self, kind: str, work: Path, name: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{work / (name + '.db')}"
            self._pg_name = None
        else:
            self._pg_name = f"botbill_bench_{name}_{os.getpid()}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}"')
                admin.execute(f'CREATE DATABASE "{self._pg_name}"')
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self._pg_name

    def drop(self) -> None:
        if self._pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')

    def env(self) -> dict[str, str]:
        return {**os.environ, "BOTBILL_DATABASE_URL": self.url}

    def connect(self) -> Any:
        if self.kind == "sqlite":
            import sqlite3

            return sqlite3.connect(self.url.removeprefix("sqlite:///"))
        return psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"))


def botbill(db: Database, *args: str) -> str:
    done = subprocess.run([BOTBILL, *args], env=db.env(), capture_output=True, check=True)
    return done.stdout.decode()


def make_workspace(db: Database, apps: list[str]) -> tuple[str, str]:
    """A workspace with its API key (by the CLI), and its apps, created in-process in one
    unit of work: preparation, not measured (500 apps in ~2 s, where starting a server
    and sending it 500 requests took 6 to 7 s, on the cores the data's generation uses)."""
    created = json.loads(
        botbill(db, "workspace", "create", "Bench", "--timezone", "Asia/Kolkata", "--json")
    )
    workspace_id, key = created["workspace_id"], created["api_key"]
    engine = build_engine(db.url)
    try:
        with unit_of_work(engine, write=True) as session:
            for app in apps:
                spec = AppCreate(id=app, name=app, plan="standard")
                create_app(session, workspace_id, spec, now=now_micros())
    finally:
        engine.dispose()
    return workspace_id, key


SERVER_WORKERS = [1]
"""``botbill serve --workers``: the server processes of every measurement (``--workers``)."""


class Server:
    """``botbill serve`` in its own process(es), as production runs it."""

    def __init__(self, db: Database, *, jobs: bool = True) -> None:
        self.db = db
        self.jobs = jobs
        self.workers = SERVER_WORKERS[0]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [BOTBILL, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.db.env() | {"BOTBILL_JOBS_ENABLED": str(self.jobs).lower()},
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("botbill serve did not start")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- ingest ------------------------------------------------------------------------------


INGEST_APPS = 50


@dataclass(frozen=True)
class IngestData:
    """The ingest measurement's events: as lines (for the baseline) and as prepared
    1,000-event request bodies (for the client)."""

    lines: Path
    bodies: Path
    count: int


def write_ingest_data(work: Path, size: Size) -> IngestData:
    """Generated once, for every database: each measures the same events."""
    path, bodies = work / "ingest.jsonl", work / "ingest-bodies"
    stream = events(
        apps=bench_apps(INGEST_APPS),
        now=now_micros() - 10 * 60 * SECOND,
        days=30,
        target=size.ingest_events,
    )
    count = write(path, stream)
    bodies.mkdir(exist_ok=True)
    lines = path.read_bytes().splitlines()
    for start in range(0, len(lines), 1000):
        body = b"[" + b",".join(lines[start : start + 1000]) + b"]"
        (bodies / f"{start:09d}.json").write_bytes(body)
    return IngestData(path, bodies, count)


def bench_ingest(db: Database, key: str, data: IngestData) -> dict[str, float]:
    """Events/s through the server, then the baseline, on a workspace made beforehand."""
    with Server(db) as server:
        client = subprocess.run(
            [sys.executable, "-m", "bench.client", server.url, key, str(data.bodies)],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
    result = json.loads(client.stdout)
    rate = result["events"] / result["seconds"]
    baseline = baseline_append(db, data.lines.read_bytes().splitlines())
    log(
        f"[{db.kind}] ingest: {data.count} events over HTTP in {result['seconds']:.1f} s"
        f" (posts {result['posting_seconds']:.1f} s, then metering of what was still"
        f" pending) = {rate:,.0f} events/s; {result['refused']} batches refused with 429"
        " and sent again"
    )
    log(f"[{db.kind}] ingest baseline (executemany into a bare table): {baseline:,.0f} events/s")
    return {
        "ingest_events_per_s": round(rate),
        "ingest_baseline_events_per_s": round(baseline),
        "ingest_baseline_ratio": round(rate / baseline, 3),
        "ingest_refused_batches": result["refused"],
    }


def baseline_append(db: Database, lines: list[bytes]) -> float:
    """The same events appended with a plain executemany: the cost of storing them at all."""
    rows = []
    for line in lines:
        event = orjson.loads(line)
        rows.append(
            (
                event["source"],
                event["id"],
                event["type"],
                event["subject"],
                event["time"],
                orjson.dumps(event["data"]).decode(),
            )
        )
    marker = "?" if db.kind == "sqlite" else "%s"
    with db.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TABLE bench_raw"
            " (source text, id text, type text, subject text, time text, data text)"
        )
        connection.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), 1000):
            cursor.executemany(
                f"INSERT INTO bench_raw VALUES ({', '.join([marker] * 6)})",
                rows[start : start + 1000],
            )
            connection.commit()
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


# --- usage -------------------------------------------------------------------------------


QUERIES: dict[str, dict[str, str | None]] = {
    "30d all apps": {"range": "30d"},
    "7d one app": {"range": "7d", "app_id": None},
    "24h one app": {"range": "24h", "app_id": None},
    "90d custom by week": {"range": "custom", "granularity": "week"},
}


@dataclass
class UsageDatabase:
    """One database of the usage measurements, built in steps."""

    db: Database
    workspace_id: str
    key: str
    apps: list[str]
    figures: dict[str, Any] = field(default_factory=dict)


def bench_usage(
    built: list[UsageDatabase], size: Size, rest: Path, fifth: Path
) -> dict[str, dict[str, Any]]:
    """Usage queries at a fifth of the events and at full size, on every database.

    Building the databases (the imports) is not measured for speed, so the databases
    are built side by side; every timed query runs alone, against a server without
    background jobs (a usage read meters and completes what its workspace has waiting
    itself; the rater, which would work through every session the import queued, is
    not what is measured and would take a core from the queries).
    """
    imports = side_by_side(lambda u: import_file(u.db, u.workspace_id, fifth), built)
    for u, (rss_mb, seconds, imported) in zip(built, imports, strict=True):
        log(
            f"[{u.db.kind}] import of {imported:,} events: {seconds:.1f} s"
            f" ({imported / seconds:,.0f} events/s, beside the other database's), "
            f"peak RSS {rss_mb:.0f} MB"
        )
        u.figures |= {"import_peak_rss_mb": round(rss_mb), "usage_events": imported}
    small = [measure_queries(u, rounds=size.query_rounds) for u in built]
    log("timed the queries at a fifth of the events")
    imports = side_by_side(lambda u: import_file(u.db, u.workspace_id, rest), built)
    for u, (_, seconds, imported) in zip(built, imports, strict=True):
        log(f"[{u.db.kind}] import of the other {imported:,} events: {seconds:.1f} s")
        u.figures["usage_events"] += imported
    for u, at_fifth in zip(built, small, strict=True):
        large = measure_queries(u, rounds=size.query_rounds)
        raw = measure_group_by(u, rounds=max(5, size.query_rounds // 5))
        u.figures |= usage_figures(u.db.kind, large, at_fifth, raw)
    return {u.db.kind: u.figures for u in built}


def side_by_side(work: Callable[[T], R], items: list[T]) -> list[R]:
    """``work`` on every item at once (one thread each, each driving its own processes)."""
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(work, items))


def usage_figures(
    kind: str,
    large: dict[str, tuple[float, float]],
    small: dict[str, tuple[float, float]],
    raw: dict[str, tuple[float, float]],
) -> dict[str, Any]:
    for name in QUERIES:
        log(
            f"[{kind}] {name:>20}: p50 {large[name][0]:7.2f} ms  p95 {large[name][1]:7.2f} ms"
            f" | at 1/5: p95 {small[name][1]:7.2f} ms | GROUP BY p50 {raw[name][0]:8.2f} ms"
            f" p95 {raw[name][1]:8.2f} ms"
        )
    p95 = max(value[1] for value in large.values())
    growth = max(large[name][1] / small[name][1] for name in QUERIES)
    speedup = min(raw[name][1] / large[name][1] for name in ("30d all apps", "90d custom by week"))
    return {
        "usage_p95_ms": round(p95, 2),
        "usage_vs_raw_speedup": round(speedup, 1),
        "usage_growth_ratio": round(growth, 2),
    }


def import_file(db: Database, workspace_id: str, path: Path) -> tuple[float, float, int]:
    """Run ``botbill import``; returns (its peak RSS in MB, seconds, events accepted).

    The peak is the process's own high-water mark (VmHWM), read while it runs: the
    rusage of ``wait4`` would also count the pages of this (large) benchmark process
    that the child shares between fork and exec.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [BOTBILL, "import", str(path), "--workspace", workspace_id, "--quiet"],
        env=db.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    peak_kb = [0]

    def watch() -> None:
        status = Path(f"/proc/{process.pid}/status")
        while process.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
            except (OSError, ValueError):
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = process.communicate()
    watcher.join()
    seconds = time.perf_counter() - started
    summary = json.loads(out)
    if db.kind == "postgresql":
        vacuum(db)
    if summary["rejected"]:
        raise RuntimeError(f"import rejected lines: {summary['rejected_lines'][:5]}")
    return peak_kb[0] / 1024, seconds, summary["accepted"]


def vacuum(db: Database) -> None:
    """What autovacuum does soon after a bulk load (PostgreSQL 13+ vacuums after many
    inserts too), and the checkpoint that follows: done before the queries are timed, so
    that they are not timed on two cores shared with them."""
    with psycopg.connect(
        db.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")


def measure_queries(u: UsageDatabase, *, rounds: int) -> dict[str, tuple[float, float]]:
    results: dict[str, list[float]] = {name: [] for name in QUERIES}
    today = time.gmtime()
    to = f"{today.tm_year:04d}-{today.tm_mon:02d}-{today.tm_mday:02d}"
    start = time.gmtime(time.time() - 89 * 86400)
    frm = f"{start.tm_year:04d}-{start.tm_mon:02d}-{start.tm_mday:02d}"
    with (
        Server(u.db, jobs=False) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {u.key}"}) as http,
    ):
        for round_ in range(rounds + 3):
            for name, query in QUERIES.items():
                params = dict(query)
                if "app_id" in params:
                    params["app_id"] = u.apps[(round_ * 7) % len(u.apps)]
                if params["range"] == "custom":
                    params |= {"from": frm, "to": to}
                started = time.perf_counter()
                response = http.get("/v1/usage", params=params)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if round_ >= 3:  # the first rounds warm caches
                    results[name].append(elapsed)
    return {name: percentiles(values) for name, values in results.items()}


def measure_group_by(u: UsageDatabase, *, rounds: int) -> dict[str, tuple[float, float]]:
    """The same answers from a GROUP BY over one row per billing session (no rollups)."""
    db, workspace_id, apps = u.db, u.workspace_id, u.apps
    now = now_micros()
    spans = {
        "30d all apps": (now - 30 * DAY, DAY, False),
        "7d one app": (now - 7 * DAY, DAY, True),
        "24h one app": (now - DAY, 3600 * SECOND, True),
        "90d custom by week": (now - 90 * DAY, 7 * DAY, False),
    }
    marker = "?" if db.kind == "sqlite" else "%s"
    results: dict[str, list[float]] = {name: [] for name in QUERIES}
    with db.connect() as connection:
        cursor = connection.cursor()
        for round_ in range(rounds + 1):
            for name, (start, width, one_app) in spans.items():
                sql = (
                    f"SELECT (start - {marker}) / {marker} AS bucket, type, count(*)"
                    f" FROM billing_sessions WHERE workspace_id = {marker} AND completed"
                    f" AND start >= {marker} AND start < {marker}"
                )
                params: list[Any] = [start, width, workspace_id, start, now]
                if one_app:
                    sql += f" AND app_id = {marker}"
                    params.append(apps[(round_ * 7) % len(apps)])
                sql += " GROUP BY bucket, type"
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                if round_ >= 1:
                    results[name].append((time.perf_counter() - started) * 1000)
    return {name: percentiles(values) for name, values in results.items()}


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


# --- data --------------------------------------------------------------------------------


def in_fifth(event: dict[str, Any]) -> bool:
    """Whether an event falls in the first fifth: a fifth of the conversations (and
    seats), each whole."""
    data = event["data"]
    name = data.get("conversation_id") or data.get("agent_id") or event["id"]
    return crc32(f"{event['subject']}/{name}".encode()) % 5 == 0


def split_fifth(source: Path, fifth: Path, rest: Path) -> None:
    """A fifth of the conversations (and seats) in one file, the rest in another."""
    with source.open("rb") as lines, fifth.open("wb") as a, rest.open("wb") as b:
        for line in lines:
            (a if in_fifth(orjson.loads(line)) else b).write(line)


def usage_data(size: Size, fifth: Path, rest: Path) -> int:
    """The usage data set, split into its fifth and the rest; returns its size.

    Each half of the apps is generated by its own process (an app's events depend only
    on the app and the seed, so the union is the same data set), and the halves' files
    are joined.
    """
    apps = bench_apps(size.apps)
    now = now_micros() - 10 * 60 * SECOND
    halves = [apps[0::2], apps[1::2]]
    parts = [
        (half, now, size.days, size.usage_events * len(half) // len(apps), fifth, rest, index)
        for index, half in enumerate(halves)
    ]
    with ProcessPoolExecutor(max_workers=len(parts)) as pool:
        count = sum(pool.map(_write_part, parts))
    for target in (fifth, rest):
        with target.open("wb") as joined:
            for index in range(len(parts)):
                part = target.with_suffix(f".{index}")
                with part.open("rb") as source:
                    shutil.copyfileobj(source, joined)
                part.unlink()
    return count


def _write_part(part: tuple[list[DemoApp], int, int, int, Path, Path, int]) -> int:
    apps, now, days, target, fifth, rest, index = part
    count = 0
    with (
        fifth.with_suffix(f".{index}").open("wb") as a,
        rest.with_suffix(f".{index}").open("wb") as b,
    ):
        for event in events(apps=apps, now=now, days=days, target=target):
            (a if in_fifth(event) else b).write(orjson.dumps(event) + b"\n")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes (botbill serve --workers)"
    )
    parser.add_argument(
        "--parts", default="ingest,usage", help="ingest, usage or both (for measuring one step)"
    )
    args = parser.parse_args()
    size = SIZES[args.size]
    SERVER_WORKERS[0] = args.workers
    work = Path(tempfile.mkdtemp(prefix="botbill-bench-"))
    kinds = args.db.split(",")
    parts = set(args.parts.split(","))
    databases: list[Database] = []
    try:
        started = time.perf_counter()
        fifth, rest = work / "fifth.jsonl", work / "rest.jsonl"
        prepared = prepare(work, size, kinds, parts, fifth, rest, databases)
        figures: dict[str, dict[str, Any]] = {kind: {"db": kind} for kind in kinds}
        for db, key in prepared.ingest:
            assert prepared.ingest_data is not None
            figures[db.kind] |= bench_ingest(db, key, prepared.ingest_data)
        if prepared.usage:
            for kind, usage in bench_usage(prepared.usage, size, rest, fifth).items():
                figures[kind] |= usage
        # SQLite's line last; the fields first, in its order.
        for kind in sorted(kinds, key=lambda kind: kind == "sqlite"):
            line = {name: figures[kind][name] for name in FIELD_ORDER if name in figures[kind]}
            print(json.dumps(line | figures[kind]), flush=True)
        log(f"done in {time.perf_counter() - started:.0f} s")
    finally:
        for db in databases:
            db.drop()
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Prepared:
    ingest: list[tuple[Database, str]]  # each database with its workspace's API key
    ingest_data: IngestData | None
    usage: list[UsageDatabase]


def prepare(
    work: Path,
    size: Size,
    kinds: list[str],
    parts: set[str],
    fifth: Path,
    rest: Path,
    databases: list[Database],
) -> Prepared:
    """Everything that is not measured, done at once before anything is timed: the data
    sets generated (in their own processes) while every database gets its workspace and
    apps (each through its own server)."""
    ingest_dbs = [Database(kind, work, "ingest") for kind in kinds] if "ingest" in parts else []
    usage_dbs = [Database(kind, work, "usage") for kind in kinds] if "usage" in parts else []
    databases += ingest_dbs + usage_dbs
    usage_apps = [app.id for app in bench_apps(size.apps)]
    ingest_apps = [app.id for app in bench_apps(INGEST_APPS)]
    with ProcessPoolExecutor(max_workers=1) as generator, ThreadPoolExecutor() as threads:
        ingest_data = generator.submit(write_ingest_data, work, size) if ingest_dbs else None
        count = threads.submit(usage_data, size, fifth, rest) if usage_dbs else None
        ingest = [threads.submit(make_workspace, db, ingest_apps) for db in ingest_dbs]
        usage = [threads.submit(make_workspace, db, usage_apps) for db in usage_dbs]
        prepared = Prepared(
            ingest=[
                (db, future.result()[1]) for db, future in zip(ingest_dbs, ingest, strict=True)
            ],
            ingest_data=ingest_data.result() if ingest_data else None,
            usage=[
                UsageDatabase(db, *future.result(), usage_apps)
                for db, future in zip(usage_dbs, usage, strict=True)
            ],
        )
    if count is not None:
        log(f"generated {count.result():,} events for {size.apps} apps over {size.days} days")
    log("workspaces ready")
    return prepared


if __name__ == "__main__":
    main()
