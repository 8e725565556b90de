"""botbill's crash test: ``SIGKILL`` the server under load, again and again, then check
that nothing acknowledged was lost and nothing was invented.

    python -m bench.crash                      # make crash-test: 20 rounds, both databases
    python -m bench.crash --rounds 5 --db sqlite
    python -m bench.crash --seed 1234          # replay a run (its seed is printed)

For each database, ``botbill serve`` (2 server processes on PostgreSQL, 1 on SQLite, and
its background worker) runs in a process group of its own while clients stream ingest
batches, add-funds orders under ``Idempotency-Key`` (card, and wire confirmed by an
operator key). Each round waits a random time drawn from the seed, kills the whole group
with ``SIGKILL`` and starts it again; the clients send again whatever was not answered.
Then the background worker catches up and ``bench.crash_check`` compares the server with
the reference. Prints a line per kill and the figures, writes them as JSON under
bench/out/, and exits non-zero when anything differs. docs/crash-safety.md has what is
checked and what the runs found.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from sqlalchemy.orm import Session

from bench.crash_check import check_money, check_usage
from bench.crash_clients import Clients, Journal
from bench.crash_server import KillableServer
from bench.crash_webhooks import Receiver, check_announcements
from bench.run import Database
from bench.soak_clients import now_micros
from bench.soak_report import WORKERS
from bench.soak_server import log_errors
from bench.soak_traffic import LOAD_APPS
from botbill.auth.service import create_operator_key
from botbill.kit.db import build_engine, unit_of_work
from botbill.migrations import upgrade
from botbill.workspaces.service import create_workspace

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
console = Console(width=None if sys.stdout.isatty() else 120)
UPTIME = (0.5, 4.0)
"""Seconds the server runs under load before a kill: drawn uniformly from the seed."""
PAYMENT_WAIT, PAYMENT_AIM = 2.0, 0.15
"""Every other kill waits (at most ``PAYMENT_WAIT`` seconds) for a payment to go out, then
lands within ``PAYMENT_AIM`` seconds of it, while its transaction is likely open: kills
at uniform instants mostly cut ingest batches, the bulk of the traffic."""
FINAL_LOAD = 1.0
"""Seconds of load after the last restart, before the clients stop."""


@dataclass(frozen=True)
class Round:
    number: int
    uptime: float
    """Seconds the server ran under load before this kill."""
    aimed: bool
    """Killed while a payment (an order or a wire confirmation) was out."""
    in_flight: int
    """Requests out at the instant of the kill."""
    restart: float
    """Seconds until the new server answered ``/readyz``."""


@dataclass
class Outcome:
    db: str
    seed: int
    rounds: list[Round] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    key: str
    operator_key: str


def prepare(db: Database) -> Tenant:
    """The schema, a workspace (UTC: the reference counts seat-days by UTC day) with its
    admin key, and an operator key: in this process, two fewer starts of ``botbill``."""
    engine = build_engine(db.url)
    try:
        upgrade(engine)
        with unit_of_work(engine, write=True) as session:
            workspace, issued = create_workspace(
                session, name="Crash", timezone="UTC", currency="USD", now=now_micros()
            )
            _, operator = create_operator_key(session, name="crash test", now=now_micros())
            return Tenant(workspace.id, issued.secret, operator)
    finally:
        engine.dispose()


def create_apps(http: httpx.Client) -> None:
    for app in LOAD_APPS:
        body = {
            "id": app.id,
            "name": app.id,
            "idle_timeout_minutes": app.idle_timeout_minutes,
            "plan": "standard",
        }
        http.post("/v1/apps", json=body).raise_for_status()


def run(
    kind: str,
    *,
    rounds: int,
    seed: int,
    work: Path,
    uptime: tuple[float, float] = UPTIME,
    ingesters: int = 2,
    order_pause: float = 0.2,
    on_round: Callable[[Round], None] = lambda _: None,
) -> Outcome:
    """``rounds`` kills of ``botbill serve`` on a fresh ``kind`` database, then the checks."""
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    outcome = Outcome(kind, seed)
    db = Database(kind, work, "crash")
    server = KillableServer(db, workers=WORKERS[kind], log_path=work / "server.log")
    try:
        tenant = prepare(db)
        with Receiver() as receiver:
            server.start()
            http = httpx.Client(
                base_url=server.url,
                headers={"Authorization": f"Bearer {tenant.key}"},
                timeout=120,
            )
            with http:
                create_apps(http)
                receiver.subscribe(http)
                clients = Clients(
                    server.url,
                    key=tenant.key,
                    operator_key=tenant.operator_key,
                    work=work,
                    seed=seed,
                    ingesters=ingesters,
                    order_pause=order_pause,
                )
                clients.start()
                for number in range(1, rounds + 1):
                    up, aim = rng.uniform(*uptime), rng.uniform(0, PAYMENT_AIM)
                    time.sleep(up)
                    aimed = number % 2 == 0 and clients.await_payment(PAYMENT_WAIT)
                    if aimed:
                        time.sleep(aim)
                    in_flight = clients.in_flight()
                    server.kill()
                    restart = server.start()
                    done = Round(number, round(up, 2), aimed, in_flight, round(restart, 2))
                    outcome.rounds.append(done)
                    on_round(done)
                time.sleep(FINAL_LOAD)
                clients.stop()
                loaded = time.monotonic() - started
                usage, waited = check_usage(http, work, clients.journal)
            stored = check_stored(db, tenant.workspace_id, clients.journal, receiver)
            outcome.mismatches = clients.journal.refusals + usage + stored
            outcome.figures = figures(clients.journal, receiver, outcome.rounds) | {
                "server_processes_replaced": replaced_processes(server.log_path),
                "server_log_errors": len(log_errors(server.log_path)),
                "load_seconds": round(loaded, 1),
                "settle_seconds": round(waited, 1),
                "seconds": round(time.monotonic() - started, 1),
            }
        return outcome
    finally:
        server.kill()  # the database is dropped next: no need to stop it gently
        db.drop()


def check_stored(
    db: Database, workspace_id: str, journal: Journal, receiver: Receiver
) -> list[str]:
    engine = build_engine(db.url)
    try:
        with Session(engine) as session:
            announced = check_announcements(session, workspace_id, receiver)
        return check_money(engine, workspace_id, journal) + announced
    finally:
        engine.dispose()


def figures(journal: Journal, receiver: Receiver, rounds: list[Round]) -> dict[str, Any]:
    return {
        "kills": len(rounds),
        "kills_aimed_at_payments": sum(r.aimed for r in rounds),
        "requests_in_flight_at_kills": sum(r.in_flight for r in rounds),
        "batches": journal.batches,
        "events": journal.events,
        "duplicate_events": journal.duplicates,
        "orders": len(journal.orders),
        "orders_replayed": journal.replayed,
        "payments_cut_by_kills": journal.payments_cut,
        "wires_confirmed": len(journal.confirmed),
        "confirmations_answered_409": journal.confirmed_earlier,
        "requests_resent": journal.resent,
        "answers_5xx": journal.server_errors,
        "webhooks_received": len(receiver.received),
        "webhooks_received_again": receiver.repeats,
    }


def replaced_processes(log: Path) -> int:
    """Server processes uvicorn's supervisor found unresponsive and replaced."""
    with log.open(errors="replace") as lines:
        return sum('"message":"Child process [' in line and 'died"' in line for line in lines)


def say_round(kind: str, rounds: int) -> Callable[[Round], None]:
    def say(done: Round) -> None:
        console.print(
            f"{kind}: round {done.number:2}/{rounds}: killed after {done.uptime:4.2f} s "
            f"{'(a payment out) ' if done.aimed else ''}with {done.in_flight} request(s) in "
            f"flight; up again in {done.restart:.2f} s",
            highlight=False,
        )

    return say


def report(outcome: Outcome) -> None:
    figures = "  ".join(f"{name}={value}" for name, value in outcome.figures.items())
    console.print(f"{outcome.db}: {figures}", highlight=False)
    if outcome.exact:
        console.print(f"[green]{outcome.db}: exact, nothing lost, nothing invented[/green]")
    for mismatch in outcome.mismatches:
        console.print(f"[red]{outcome.db}: {escape(mismatch)}[/red]", highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=20, help="kills per database")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    console.print(f"crash test, seed {seed} (replay: python -m bench.crash --seed {seed})")
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    work = Path(tempfile.mkdtemp(prefix="botbill-crash-"))
    outcomes = []
    try:
        with Progress(console=console, transient=True) as progress:
            for kind in kinds:
                task = progress.add_task(f"{kind}: kills", total=args.rounds)
                say = say_round(kind, args.rounds)

                def advance(
                    done: Round, say: Callable[[Round], None] = say, task: Any = task
                ) -> None:
                    say(done)
                    progress.advance(task)

                outcome = run(
                    kind, rounds=args.rounds, seed=seed, work=work / kind, on_round=advance
                )
                progress.remove_task(task)
                report(outcome)
                outcomes.append(outcome)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"crash-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps([asdict(outcome) for outcome in outcomes], indent=2) + "\n")
    console.print(f"figures written to {path.relative_to(ROOT)}", highlight=False)
    if not all(outcome.exact for outcome in outcomes):
        console.print(f"[red]not exact; replay with --seed {seed}[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
