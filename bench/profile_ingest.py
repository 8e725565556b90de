"""In-process ingest profile: ``parse_events`` + ``ingest`` per 1,000-event batch, then
whatever metering is still pending, without HTTP (the machine is shared: in-process
figures are steadier than the HTTP benchmark's).

    python -m bench.profile_ingest --events 100000 [--db postgresql] [--profile]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson

from bench.dataset import bench_apps, events
from bench.run import Database, log
from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.events.parsing import parse_events
from botbill.events.service import TimeLimits
from botbill.ingest.service import ingest
from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.kit.instants import DAY, SECOND
from botbill.metering import pending
from botbill.migrations import upgrade
from botbill.workspaces.service import create_workspace

BATCH = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="botbill-profile-"))
    db = Database(args.db, work, "profile")
    try:
        run(db, args.events, args.apps, profile=args.profile)
    finally:
        db.drop()


def run(db: Database, target: int, app_count: int, *, profile: bool) -> None:
    os.environ["BOTBILL_DATABASE_URL"] = db.url
    engine = build_engine(db.url)
    upgrade(engine)
    clock = SystemClock()
    now = clock.now()
    apps = bench_apps(app_count)
    with unit_of_work(engine, write=True) as session:
        workspace, _ = create_workspace(
            session, name="Profile", timezone="Asia/Kolkata", currency="USD", now=now
        )
        workspace_id = workspace.id
        for app in apps:
            create_app(
                session, workspace_id, AppCreate(id=app.id, name=app.id, plan="standard"), now=now
            )
    lines = [
        orjson.dumps(event)
        for event in events(apps=apps, now=now - 10 * 60 * SECOND, days=30, target=target)
    ]
    bodies = [
        b"[" + b",".join(lines[start : start + BATCH]) + b"]"
        for start in range(0, len(lines), BATCH)
    ]
    limits = TimeLimits(max_future=300 * SECOND, max_age=35 * DAY)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    started = time.perf_counter()
    for body in bodies:
        parsed = parse_events(
            body,
            content_type="application/cloudevents-batch+json",
            headers={},
            max_events=10_000,
        )
        with unit_of_work(engine, write=True) as session:
            ingest(
                session, workspace_id=workspace_id, events=parsed, now=clock.now(), limits=limits
            )
    stored = time.perf_counter() - started
    drain_started = time.perf_counter()
    pending.settle(engine, clock, workspace_id=workspace_id)
    drained = time.perf_counter() - drain_started
    total = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    log(
        f"[{db.kind}] {len(lines):,} events: requests {stored:.1f} s, pending drained in "
        f"{drained:.1f} s; {len(lines) / total:,.0f} events/s in-process, metering included"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
