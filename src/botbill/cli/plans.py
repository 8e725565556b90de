"""``botbill plan catalog``: the operators' view and edits of the plan catalog."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from botbill.cli.common import fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work

plan_app = typer.Typer(no_args_is_help=True, help="The plan catalog (operators).")
plan_catalog_app = typer.Typer(no_args_is_help=True, help="List and edit plans.")
plan_app.add_typer(plan_catalog_app, name="catalog")


@plan_catalog_app.command("list")
def plan_catalog_list() -> None:
    """Print the catalog as JSON lines (amounts in minor units)."""
    from botbill.plans.catalog_store import catalog, plan_json

    engine = migrated_engine()
    with unit_of_work(engine, write=False) as session:
        plans = list(catalog(session).values())
    for plan in plans:
        print(json.dumps(plan_json(plan)))


@plan_catalog_app.command("set")
def plan_catalog_set(
    code: Annotated[str, typer.Argument(help="Plan code, e.g. essential or a new one.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    fee: Annotated[int | None, typer.Option(min=0, help="Fee per period.")] = None,
    included_billing: Annotated[int | None, typer.Option(min=0)] = None,
    included_voice: Annotated[int | None, typer.Option(min=0)] = None,
    usage_price: Annotated[int | None, typer.Option(min=0)] = None,
    alert_price: Annotated[int | None, typer.Option(min=0)] = None,
    voice_price: Annotated[int | None, typer.Option(min=0)] = None,
    seat_day_price: Annotated[int | None, typer.Option(min=0)] = None,
) -> None:
    """Add a monthly plan or change a plan's fields; the rest stays as it is."""
    import re

    from botbill.audit.service import Actor
    from botbill.kit.problems import Problem
    from botbill.plans.catalog_store import plan_json, set_plan

    if not re.fullmatch(r"[a-z0-9_-]{1,32}", code):
        raise fail("a plan code is 1-32 of a-z, 0-9, _ and -")
    changes = {
        "name": name,
        "fee": fee,
        "included_billing_sessions": included_billing,
        "included_voice_sessions": included_voice,
        "usage_price": usage_price,
        "alert_price": alert_price,
        "voice_price": voice_price,
        "seat_day_price": seat_day_price,
    }
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            plan = set_plan(session, code, changes, actor=Actor.cli(), now=SystemClock().now())
    except Problem as error:
        raise fail(error.detail) from None
    except ValueError as error:
        raise fail(str(error)) from None
    print(json.dumps(plan_json(plan)))
