"""The plan catalog as stored: the ``plans`` table, seeded with SPEC §3.1's defaults.

Operators edit it (``botbill plan catalog set``); reads take the table's plans, with a
default not written yet standing as it is defined (``plans/catalog.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.db import table_of, upsert_insert
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict
from botbill.plans.catalog import DEFAULT_CATALOG, DEFAULT_PLANS, Period, Plan
from botbill.plans.models import PlanRow


def _row_values(plan: Plan, *, position: int, now: Micros) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "fee": plan.fee,
        "period": plan.period.value,
        "trial_days": plan.trial_days,
        "included_billing_sessions": plan.included_billing_sessions,
        "included_voice_sessions": plan.included_voice_sessions,
        "usage_price": plan.usage_price,
        "alert_price": plan.alert_price,
        "voice_price": plan.voice_price,
        "seat_day_price": plan.seat_day_price,
        "contract": plan.contract,
        "position": position,
        "updated_at": from_micros(now),
    }


def ensure_catalog(session: Session, *, now: Micros) -> None:
    """Write the default plans that are not in the ``plans`` table yet (first use)."""
    session.info.pop(_CACHED, None)
    present = set(session.scalars(select(PlanRow.code)))
    missing = [
        _row_values(plan, position=index, now=now)
        for index, plan in enumerate(DEFAULT_PLANS)
        if plan.code not in present
    ]
    if missing:
        statement = upsert_insert(session)(table_of(PlanRow)).values(missing)
        session.execute(statement.on_conflict_do_nothing(index_elements=["code"]))


_CACHED = "botbill.catalog"


def catalog(session: Session) -> dict[str, Plan]:
    """The catalog: the table's plans; a default not written yet stands as it is defined.

    Read once per unit of work (kept in ``session.info``; writes here forget it)."""
    cached: dict[str, Plan] | None = session.info.get(_CACHED)
    if cached is not None:
        return dict(cached)
    plans = dict(DEFAULT_CATALOG)
    for row in session.scalars(select(PlanRow).order_by(PlanRow.position, PlanRow.code)):
        plans[row.code] = row.to_plan()
    session.info[_CACHED] = plans
    return dict(plans)


def put_plan(session: Session, plan: Plan, *, now: Micros) -> Plan:
    """Add a plan to the catalog or replace one (operators).

    Running periods keep the allowance they started with; a new fee is charged from the
    next period on; new prices apply to sessions rated from now on.
    """
    ensure_catalog(session, now=now)
    session.info.pop(_CACHED, None)
    row = session.get(PlanRow, plan.code)
    if row is not None and row.contract != plan.contract:
        raise Conflict(f"plan {plan.code!r} cannot change between contract and self-serve")
    if row is not None and Period(row.period) is not plan.period:
        raise Conflict(f"plan {plan.code!r} cannot change between monthly and trial periods")
    position = row.position if row is not None else len(catalog(session))
    values = _row_values(plan, position=position, now=now)
    if row is None:
        session.add(PlanRow(**values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    session.info.pop(_CACHED, None)
    return plan


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as the command line prints it and the audit log keeps it."""
    values = asdict(plan)
    values["period"] = plan.period.value
    return values


def set_plan(
    session: Session, code: str, changes: Mapping[str, Any], *, actor: Actor, now: Micros
) -> Plan:
    """Add a monthly plan, or change the given fields of one (the rest stays as it is);
    recorded in the audit log."""
    current = catalog(session).get(code)
    base = current or Plan(
        code=code,
        name=code.title(),
        fee=0,
        period=Period.MONTH,
        included_billing_sessions=0,
        included_voice_sessions=0,
        usage_price=None,
        alert_price=None,
        voice_price=None,
        seat_day_price=None,
    )
    given = {key: value for key, value in changes.items() if value is not None}
    plan = put_plan(session, replace(base, **given), now=now)
    record(
        session,
        workspace_id=None,
        actor=actor,
        action=Action.CATALOG_PLAN_SET,
        target=target("plan", code),
        before=None if current is None else plan_json(current),
        after=plan_json(plan),
        now=now,
    )
    return plan
