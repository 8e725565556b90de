"""Where a usage query's time goes on a bench-sized database, at a fifth and at full size.

    python -m bench.explain_usage --size quick [--db postgresql] [--keep]

Imports the benchmark's data set in-process (a fifth of it, then the rest), and after each
part times the pieces of ``GET /v1/usage`` for 30 days over all apps without HTTP, and
prints PostgreSQL's ``EXPLAIN (ANALYZE, BUFFERS)`` of its SQL.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from bench.dataset import bench_apps, events, write
from bench.run import SIZES, Database, log, split_fifth
from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.events.service import TimeLimits
from botbill.ingest.importer import import_lines
from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, fetch_raw, table_of, unit_of_work
from botbill.kit.instants import SECOND, SLOT
from botbill.metering.models import SeatPresence
from botbill.metering.seat_presence import agents_by_bucket
from botbill.migrations import upgrade
from botbill.usage import service
from botbill.usage.buckets import RangeKind, window
from botbill.workspaces.service import create_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--db", default="postgresql")
    args = parser.parse_args()
    size = SIZES[args.size]
    work = Path(tempfile.mkdtemp(prefix="botbill-explain-"))
    db = Database(args.db, work, "explain")
    try:
        engine = build_engine(db.url)
        upgrade(engine)
        clock = SystemClock()
        apps = bench_apps(size.apps)
        now = clock.now()
        with unit_of_work(engine, write=True) as session:
            workspace, _ = create_workspace(
                session, name="Explain", timezone="Asia/Kolkata", currency="USD", now=now
            )
            workspace_id = workspace.id
            for app in apps:
                spec = AppCreate(id=app.id, name=app.id, plan="standard")
                create_app(session, workspace_id, spec, now=now)
        dataset, fifth, rest = work / "all.jsonl", work / "fifth.jsonl", work / "rest.jsonl"
        write(
            dataset,
            events(apps=apps, now=now - 10 * 60 * SECOND, days=size.days, target=size.usage_events),
        )
        split_fifth(dataset, fifth, rest)
        for part in (fifth, rest):
            started = time.perf_counter()
            with part.open("rb") as lines:
                summary = import_lines(
                    engine,
                    clock,
                    workspace_id=workspace_id,
                    lines=lines,
                    limits=TimeLimits(max_age=None),
                )
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            log(f"imported {summary.accepted:,} events in {time.perf_counter() - started:.0f} s")
            measure(engine, clock, workspace_id)
    finally:
        db.drop()


def measure(engine: Engine, clock: SystemClock, workspace_id: str) -> None:
    span = window(range=RangeKind("30d"), tz="Asia/Kolkata", now=clock.now())

    def timed(name: str, work: Callable[[], Any]) -> None:
        times = []
        for _ in range(30):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        log(f"  {name:>28}: median {statistics.median(times):6.2f} ms, max {max(times):6.2f} ms")

    def report() -> None:
        with unit_of_work(engine, write=False) as session:
            service.usage_report(
                session, workspace_id=workspace_id, app_id=None, window=span, now=clock.now()
            )

    def counts() -> None:
        with unit_of_work(engine, write=False) as session:
            service._session_counts(session, workspace_id=workspace_id, app_id=None, window=span)

    def settle() -> None:
        with service.settled_read(engine, clock, workspace_id=workspace_id):
            pass

    def agents() -> None:
        with unit_of_work(engine, write=False) as session:
            agents_by_bucket(
                session,
                workspace_id=workspace_id,
                mask=None,
                bucket_bounds=[(bucket.start, bucket.end) for bucket in span.buckets],
                open_seats=service._open_seats(
                    session, workspace_id=workspace_id, app_id=None, window=span, ordinal_of=None
                ),
                now=clock.now(),
            )

    def presence_rows() -> int:
        p = table_of(SeatPresence).c
        query = select(p.slot, p.seats).where(
            p.workspace_id == workspace_id,
            p.slot >= span.start // SLOT,
            p.slot < span.end // SLOT,
        )
        with unit_of_work(engine, write=False) as session:
            rows = fetch_raw(session, query)
        distinct = {bytes(blob) for _, blob in rows}
        log(f"  presence rows {len(rows)}, distinct bitmaps {len(distinct)}")
        return len(rows)

    presence_rows()
    timed("presence fetch", presence_rows)
    timed("agents_by_bucket", agents)
    timed("settled read (pending, due)", settle)
    timed("rollup sums", counts)
    timed("usage_report (sums + agents)", report)
    if engine.dialect.name != "postgresql":
        return
    statements = capture(engine, report) + capture(engine, settle)
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).all()
            log("  " + statement.replace("\n", " ")[:160])
            for (line,) in plan:
                log("    " + line)


def capture(engine: Engine, work: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SQL statements ``work`` runs, with their parameters."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


if __name__ == "__main__":
    main()
