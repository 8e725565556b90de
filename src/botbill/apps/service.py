"""Apps (bots): creation, settings and their owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.apps.schemas import PLAN_CODES, AppCreate, AppUpdate
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, Invalid, NotFound
from botbill.plans.service import start_subscription
from botbill.workspaces.models import Member
from botbill.workspaces.schemas import APP_OWNER_ROLES, Role
from botbill.workspaces.service import find_member, get_workspace


def get_app(session: Session, workspace_id: str, app_id: str) -> App:
    """The app, or 404 whether it is unknown or another workspace's (never say which)."""
    app = None if "\x00" in app_id else session.get(App, (workspace_id, app_id))
    if app is None:
        raise NotFound(f"no app {app_id!r}")
    return app


def list_apps(
    session: Session, workspace_id: str, *, after: str | None = None, limit: int = 50
) -> list[App]:
    query = select(App).where(App.workspace_id == workspace_id)
    if after is not None:
        query = query.where(App.id > after)
    return list(session.scalars(query.order_by(App.id).limit(limit)))


def create_app(session: Session, workspace_id: str, spec: AppCreate, *, now: Micros) -> App:
    enterprise = get_workspace(session, workspace_id).account_type == "enterprise"
    plan = spec.plan if spec.plan is not None else ("enterprise" if enterprise else "trial")
    if plan not in PLAN_CODES:
        raise Invalid.at(
            ["body", "plan"], f"unknown plan {plan!r} (plans: {', '.join(PLAN_CODES)})"
        )
    if (plan == "enterprise") != enterprise:
        # SPEC §3.1, §3.5: the only plan of an enterprise workspace, set by an operator.
        raise Invalid.at(
            ["body", "plan"],
            "an enterprise workspace's apps are on the enterprise plan"
            if enterprise
            else "the enterprise plan is for enterprise workspaces (an operator action)",
        )
    owner = _owner(session, workspace_id, spec.owner_email, loc=["body", "owner_email"])
    app_id = spec.id or new_id("app")
    if session.get(App, (workspace_id, app_id)) is not None:
        raise Conflict(f"an app {app_id!r} already exists in this workspace")
    app = App(
        workspace_id=workspace_id,
        id=app_id,
        name=spec.name,
        owner_id=owner.id if owner else None,
        idle_timeout_minutes=spec.idle_timeout_minutes,
        plan=plan,
        created_at=from_micros(now),
    )
    session.add(app)
    try:
        session.flush()
    except IntegrityError:  # the same id, created by a concurrent request
        raise Conflict(f"an app {app_id!r} already exists in this workspace") from None
    start_subscription(session, app, plan, now)
    return app


def update_app(session: Session, workspace_id: str, app_id: str, spec: AppUpdate) -> App:
    app = get_app(session, workspace_id, app_id)
    if spec.name is not None:
        app.name = spec.name
    if spec.idle_timeout_minutes is not None:
        app.idle_timeout_minutes = spec.idle_timeout_minutes
    session.flush()
    return app


def change_owner(session: Session, workspace_id: str, app_id: str, email: str) -> App:
    app = get_app(session, workspace_id, app_id)
    owner = _owner(session, workspace_id, email, loc=["body", "email"])
    assert owner is not None
    app.owner_id = owner.id
    session.flush()
    return app


def owner_emails(session: Session, apps: list[App]) -> dict[str, str]:
    ids = {app.owner_id for app in apps if app.owner_id}
    if not ids:
        return {}
    emails: dict[str, str] = {}
    for member_id, email in session.execute(
        select(Member.id, Member.email).where(Member.id.in_(ids))
    ):
        emails[member_id] = email
    return emails


def _owner(
    session: Session, workspace_id: str, email: str | None, *, loc: list[str | int]
) -> Member | None:
    if email is None:
        return None
    member = find_member(session, workspace_id, email)
    if member is None:
        raise Invalid.at(loc, f"{email!r} is not a member of this workspace")
    if Role(member.role) not in APP_OWNER_ROLES:
        raise Invalid.at(loc, f"{email!r} has the {member.role!r} role, which may not own apps")
    return member
