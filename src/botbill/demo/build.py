"""Build the demo workspace: people, eight bots and weeks of traffic, through the real paths.

Events go in through the importer exactly as ``botbill import`` sends them, so the demo's
billing sessions and rollups are computed by the same code as production traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.audit.service import Actor
from botbill.auth.keys import Scope
from botbill.auth.service import create_key
from botbill.demo.traffic import DOMAIN, TIMEZONE, DemoApp, demo_apps, generate
from botbill.engine.lifecycle import run_lifecycle
from botbill.engine.passes import engine_pass
from botbill.events.service import TimeLimits
from botbill.ingest.importer import BATCH_LINES, import_lines
from botbill.invoicing.profiles import seller_profile, set_buyer_profile, set_seller_profile
from botbill.invoicing.rules import Party
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, Micros
from botbill.orders.providers import NoCardProvider, PaymentMethod
from botbill.wallet.service import confirm_payment, place_funds_order
from botbill.workspaces.models import Workspace
from botbill.workspaces.schemas import MemberCreate, Role
from botbill.workspaces.service import add_member, create_workspace, get_workspace

DEMO_NAME = "Demo Workspace"
WIRE_ONLY = NoCardProvider()  # the demo pays by wire: no card provider is needed
MEMBERS = (
    MemberCreate(email=f"priya@{DOMAIN}", name="Priya Sharma", role=Role.OWNER),
    MemberCreate(email=f"arjun@{DOMAIN}", name="Arjun Mehta", role=Role.ADMIN),
    MemberCreate(email=f"kavya@{DOMAIN}", name="Kavya Iyer", role=Role.DEVELOPER),
    MemberCreate(email=f"dev@{DOMAIN}", name="Dev Patel", role=Role.SHARED),
)
BUYER = Party(
    legal_name="Demo Bots Private Limited",
    address_lines=("Level 5, Tower B, Bandra Kurla Complex", "Mumbai 400051", "Maharashtra"),
    country="IN",
    tax_id="27AAACD1234F1Z5",
    email=f"billing@{DOMAIN}",
)
BUYER_TAX_RATE = Decimal("0.18")
SELLER = Party(
    legal_name="Botbill Platform Europe SAS",
    address_lines=("12 rue de la Paix", "75002 Paris"),
    country="FR",
    tax_id="FR40123456789",
    email="invoices@botbill.example",
)


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    workspace_id: str
    api_key: str  # an admin key's secret: shown once, stored only as a digest
    events: int  # events stored


def build_demo(
    engine: Engine,
    clock: Clock,
    *,
    days: int = 60,
    scale: float = 1.0,
    seed: int = 7,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoWorkspace:
    """Create the demo workspace and import its traffic; ``on_progress(done, total)``.

    One unit of work for the workspace and its apps, then one per import batch.
    """
    now = clock.now()
    start = now - days * DAY  # the workspace, its apps and their plans began with the history
    apps = demo_apps()
    with unit_of_work(engine, write=True) as session:
        workspace, issued = create_workspace(
            session, name=DEMO_NAME, timezone=TIMEZONE, currency="USD", now=start
        )
        for member in MEMBERS:
            add_member(session, workspace.id, member, now=start)
        _profiles(session, workspace, now=start)
        for app in apps:
            create_app(session, workspace.id, _app_spec(app), now=start)
        for app in apps:
            if app.prepaid:
                _prepay(session, workspace, app.id, app.prepaid, now=start)
    workspace_id = workspace.id

    def events() -> Iterator[dict[str, object]]:
        return generate(apps=apps, now=now, days=days, seed=seed, scale=scale)

    lines: Iterable[bytes] = (orjson.dumps(event) for event in events())
    total = 0
    if on_progress is not None:
        # Generating is far cheaper than importing: a counting pass buys a real progress bar.
        total = sum(1 for _ in events())
        lines = _counted(lines, total, on_progress)
    summary = import_lines(
        engine, clock, workspace_id=workspace_id, lines=lines, limits=TimeLimits(max_age=None)
    )
    if on_progress is not None:
        on_progress(total, total)
    if summary.rejected:
        first = summary.rejected[0]
        raise RuntimeError(
            f"{len(summary.rejected)} demo events were refused; line {first.line}: {first.reason}"
        )
    # What the server's jobs would do next, done now so the first page is current: meter
    # and rate the first periods, renew each month's fee from the balance, then rate the
    # sessions that waited for the periods the renewals opened.
    engine_pass(engine, clock)
    run_lifecycle(engine, clock, cards=WIRE_ONLY)
    engine_pass(engine, clock)
    return DemoWorkspace(workspace_id=workspace_id, api_key=issued.secret, events=summary.accepted)


def find_demo(engine: Engine) -> str | None:
    """The newest demo workspace's id, if the database holds one."""
    with unit_of_work(engine, write=False) as session:
        return session.scalars(
            select(Workspace.id)
            .where(Workspace.name == DEMO_NAME)
            .order_by(Workspace.created_at.desc(), Workspace.id.desc())
            .limit(1)
        ).first()


def new_admin_key(engine: Engine, clock: Clock, workspace_id: str) -> str:
    """A fresh admin key for an existing demo workspace (secrets are never stored)."""
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, workspace_id)
        issued = create_key(
            session, workspace_id=workspace.id, name="demo", scopes=[Scope.ADMIN], now=clock.now()
        )
        return issued.secret


def _profiles(session: Session, workspace: Workspace, *, now: Micros) -> None:
    """The demo's billing profile, and a seller unless an operator has set one: its paid
    orders get invoices that show both."""
    set_buyer_profile(
        session, workspace, BUYER, tax_rate=BUYER_TAX_RATE, actor=Actor.cli(), now=now
    )
    if seller_profile(session).updated_at is None:
        set_seller_profile(session, SELLER, actor=Actor.cli(), now=now)


def _prepay(
    session: Session, workspace: Workspace, app_id: str, amount: int, *, now: Micros
) -> None:
    """Funds paid in by wire and confirmed, as an admin and an operator would (the
    confirmation issues the order's invoice)."""
    order = place_funds_order(
        session,
        workspace,
        app_id,
        amount=amount,
        method=PaymentMethod.WIRE,
        token=None,
        limits=(amount, amount),
        cards=WIRE_ONLY,
        now=now,
    )
    confirm_payment(session, order.id, actor=Actor.cli(), cards=WIRE_ONLY, now=now)


def _app_spec(app: DemoApp) -> AppCreate:
    return AppCreate(
        id=app.id,
        name=app.name,
        owner_email=app.owner_email,
        idle_timeout_minutes=app.idle_timeout_minutes,
        plan=app.plan,
    )


def _counted(
    lines: Iterable[bytes], total: int, on_progress: Callable[[int, int], None]
) -> Iterator[bytes]:
    """Report progress as the importer asks for the first line of each next batch, that is
    once the previous batch is stored."""
    for done, line in enumerate(lines):
        if done % BATCH_LINES == 0:
            on_progress(done, total)
        yield line
