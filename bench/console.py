"""The console's speed: every page rendered by the server, and the Usage page in Chromium.

    python -m bench.console                  # SQLite
    python -m bench.console --db postgresql
    python -m bench.console --screenshots docs   # also the README's four screenshots

Two workspaces in one database: the demo (``botbill demo``'s, 60 days) and one of 500
apps with 30 days of the benchmark's traffic. ``botbill serve`` runs with its jobs off, as
a reader sees it between two passes. Each page is asked for ``--rounds`` times by a
signed-in admin (operators for their page) after two warm-up requests; the figure is the
HTTP round trip on the same machine, an upper bound on the server's rendering. The Usage
page is then loaded in Chromium (Debian's, headless) until its graph answers a hover:
"ready to use". Nothing here asserts a timing: the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from playwright.sync_api import Browser, Page, sync_playwright

from bench.dataset import bench_apps, events
from bench.run import Database, Server, log
from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.audit.service import Actor
from botbill.demo.build import build_demo
from botbill.engine.lifecycle import run_lifecycle
from botbill.engine.passes import engine_pass
from botbill.events.service import TimeLimits
from botbill.ingest.importer import import_lines
from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.kit.instants import DAY
from botbill.migrations import upgrade
from botbill.orders.providers import NoCardProvider
from botbill.people.service import create_operator, set_password
from botbill.workspaces.schemas import MemberCreate, Role
from botbill.workspaces.service import add_member, create_workspace

PASSWORD = "bench console password"
DEMO_ADMIN = "arjun@demo.example"
BIG_ADMIN = "admin@bench.example"
OPERATOR = "ops@bench.example"
CHROMIUM = "/usr/bin/chromium"
BIG_APPS = 500
BIG_DAYS = 30
BIG_EVENTS = 300_000


@dataclass(frozen=True)
class Workspace:
    label: str
    id: str
    admin: str
    app_id: str


def prepare(db: Database, big_events: int) -> tuple[Workspace, Workspace]:
    """The demo and the 500-app workspace, their admins and an operator with passwords."""
    engine = build_engine(db.url)
    upgrade(engine)
    clock = SystemClock()
    log("building the demo")
    demo = build_demo(engine, clock)
    log("building the 500-app workspace")
    now = clock.now()
    apps = bench_apps(BIG_APPS)
    with unit_of_work(engine, write=True) as session:
        workspace, _ = create_workspace(
            session, name="Bench 500", timezone="Asia/Kolkata", currency="USD", now=now - 31 * DAY
        )
        big_id = workspace.id
        add_member(
            session,
            big_id,
            MemberCreate(email=BIG_ADMIN, name="Bench Admin", role=Role.ADMIN),
            now=now,
        )
        for app in apps:
            spec = AppCreate(id=app.id, name=app.name, plan="standard", owner_email=BIG_ADMIN)
            create_app(session, big_id, spec, now=now - 31 * DAY)
    lines = (
        orjson.dumps(e)
        for e in events(apps=apps, now=now - 60_000_000, days=BIG_DAYS, target=big_events)
    )
    summary = import_lines(
        engine, clock, workspace_id=big_id, lines=lines, limits=TimeLimits(max_age=None)
    )
    log(f"imported {summary.accepted:,} events into 500 apps; rating them")
    # What the server's jobs do every few seconds: a reader then finds it all booked.
    engine_pass(engine, clock)
    run_lifecycle(engine, clock, cards=NoCardProvider())
    engine_pass(engine, clock)
    with unit_of_work(engine, write=True) as session:
        for email in (DEMO_ADMIN, BIG_ADMIN):
            set_password(session, email, PASSWORD, actor=Actor.cli(), now=clock.now())
        create_operator(
            session, OPERATOR, name="Bench Ops", password=PASSWORD, actor=Actor.cli(), now=now
        )
    engine.dispose()
    return (
        Workspace("demo", demo.workspace_id, DEMO_ADMIN, "support-bot"),
        Workspace("500 apps", big_id, BIG_ADMIN, apps[0].id),
    )


def signed_in(base: str, email: str) -> closing[httpx.Client]:
    """A client holding a console session, closed after its ``with``."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    form = client.get("/console/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/console/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text
    return closing(client)


def pages(workspace: Workspace) -> list[str]:
    base = f"/console/w/{workspace.id}"
    return [
        f"{base}/billing-sessions",
        f"{base}/orders",
        f"{base}/plan",
        f"{base}/plan/{workspace.app_id}",
        f"{base}/usage",
        f"{base}/usage?range=24h",
        f"{base}/usage?range=30d",
        f"{base}/usage?range=custom&from=2026-01-01&to=2026-12-31&granularity=week",
        f"{base}/usage.csv?range=30d",
    ]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def time_pages(
    client: httpx.Client, paths: list[str], rounds: int
) -> list[tuple[str, float, float]]:
    rows = []
    for path in paths:
        for _ in range(2):
            client.get(path)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        rows.append((path, statistics.median(times), p95(times)))
    return rows


def browser_sign_in(browser: Browser, base: str, email: str) -> Page:
    page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/(w|workspaces)"))
    return page


def usage_ready(page: Page, path: str, rounds: int) -> list[float]:
    """Milliseconds from asking for the page to a tooltip shown on hover."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        page.goto(path, wait_until="load")
        points = page.locator(".usage-chart .point")
        points.nth(points.count() // 2).locator(".hit").hover()
        points.nth(points.count() // 2).locator(".tip").wait_for(state="visible")
        times.append((time.perf_counter() - started) * 1000)
    return times


def screenshots(browser: Browser, base: str, demo: Workspace, folder: Path) -> None:
    page = browser_sign_in(browser, base, demo.admin)
    for section in ("billing-sessions", "orders", "plan", "usage"):
        page.goto(f"/console/w/{demo.id}/{section}")
        if section == "usage":
            points = page.locator(".usage-chart .point")
            points.nth(points.count() - 3).locator(".hit").hover()
        if section == "plan":
            page.locator("tbody tr").nth(1).hover()
        page.screenshot(path=str(folder / f"console-{section}.png"))
        log(f"saved console-{section}.png")
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--browser-rounds", type=int, default=10)
    parser.add_argument("--big-events", type=int, default=BIG_EVENTS)
    parser.add_argument("--screenshots", type=Path, help="save the four sections' PNGs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        db = Database(args.db, Path(work), "console")
        try:
            demo, big = prepare(db, args.big_events)
            with Server(db, jobs=False) as server:
                print("| workspace | page | p50 ms | p95 ms |\n|---|---|---|---|")
                worst = 0.0
                for workspace in (demo, big):
                    with signed_in(server.url, workspace.admin) as client:
                        for path, median, high in time_pages(client, pages(workspace), args.rounds):
                            shown = path.replace(workspace.id, "{ws}")
                            print(f"| {workspace.label} | `{shown}` | {median:.1f} | {high:.1f} |")
                            worst = max(worst, high)
                with signed_in(server.url, OPERATOR) as client:
                    for path, median, high in time_pages(
                        client, ["/console/operator"], args.rounds
                    ):
                        print(f"| both | `{path}` | {median:.1f} | {high:.1f} |")
                        worst = max(worst, high)
                print(f"\nslowest page p95: {worst:.1f} ms")
                with sync_playwright() as driver:
                    browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
                    page = browser_sign_in(browser, server.url, big.admin)
                    for query in ("", "?range=30d", "?range=custom&from=2026-06-01&to=2026-11-30"):
                        path = f"/console/w/{big.id}/usage{query}"
                        times = usage_ready(page, path, args.browser_rounds)
                        print(
                            f"Usage of 500 apps{query or ' (7 days)'} ready in Chromium: "
                            f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
                        )
                    if args.screenshots:
                        screenshots(browser, server.url, demo, args.screenshots)
                    browser.close()
        finally:
            db.drop()


if __name__ == "__main__":
    main()
