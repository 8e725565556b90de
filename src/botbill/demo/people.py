"""Who signs in to the demo's console: its owner, admin and shared account user, and a
platform operator, all with one demo-only password printed by ``botbill demo``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from botbill.audit.service import Actor
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.people.service import create_operator, find_operator, password_hash_of, set_password
from botbill.workspaces.service import list_members

DEMO_PASSWORD = "botbill-demo-only"
"""Printed on screen by ``botbill demo``: anyone who sees it can sign in to this demo."""
DEMO_OPERATOR = "operator@botbill.example"
SIGN_IN_ROLES = ("owner", "admin", "shared")


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    role: str
    email: str
    name: str


def demo_sign_ins(engine: Engine, clock: Clock, workspace_id: str) -> list[DemoSignIn]:
    """Give the demo's people the demo password, unless they already have one (a reused
    demo keeps whatever was set since), and make the demo operator once."""
    now = clock.now()
    sign_ins: list[DemoSignIn] = []
    with unit_of_work(engine, write=True) as session:
        for member in list_members(session, workspace_id, limit=100):
            if member.role not in SIGN_IN_ROLES:
                continue
            if password_hash_of(session, member.email) is None:
                set_password(session, member.email, DEMO_PASSWORD, actor=Actor.cli(), now=now)
            sign_ins.append(DemoSignIn(member.role, member.email, member.name))
        if find_operator(session, DEMO_OPERATOR) is None:
            create_operator(
                session,
                DEMO_OPERATOR,
                name="Demo Operator",
                password=DEMO_PASSWORD,
                actor=Actor.cli(),
                now=now,
            )
        sign_ins.append(DemoSignIn("operator", DEMO_OPERATOR, "Demo Operator"))
    order = {role: index for index, role in enumerate((*SIGN_IN_ROLES, "operator"))}
    return sorted(sign_ins, key=lambda s: order[s.role])
