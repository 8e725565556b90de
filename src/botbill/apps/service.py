"""Apps (bots): creation, settings and their owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.apps.schemas import PLAN_CODES, AppCreate, AppOut, AppUpdate
from botbill.audit.service import Action, Actor, record, target
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, Invalid
from botbill.plans.catalog import ENTERPRISE, TRIAL
from botbill.plans.service import start_subscription
from botbill.workspaces.models import AccountType, App, Member
from botbill.workspaces.schemas import APP_OWNER_ROLES, Role
from botbill.workspaces.service import find_member, get_app, get_workspace, owner_emails


def views(session: Session, apps: Sequence[App]) -> list[AppOut]:
    """The apps as the API shows them (with their owners' emails)."""
    emails = owner_emails(session, apps)
    return [
        AppOut(
            id=app.id,
            name=app.name,
            owner_email=emails.get(app.owner_id) if app.owner_id else None,
            idle_timeout_minutes=app.idle_timeout_minutes,
            plan=app.plan,
            created_at=app.created_at,
        )
        for app in apps
    ]


def create_app(
    session: Session,
    workspace_id: str,
    spec: AppCreate,
    *,
    actor: Actor | None = None,
    now: Micros,
) -> App:
    """A new app and its subscription (on ``spec.plan``, by default the trial; an
    enterprise workspace's apps on the enterprise plan). ``actor``: recorded in the audit
    log (a workspace's apps made by its own set-up, such as the demo, are not)."""
    enterprise = get_workspace(session, workspace_id).account_type == AccountType.ENTERPRISE
    plan = spec.plan if spec.plan is not None else (ENTERPRISE if enterprise else TRIAL)
    if plan not in PLAN_CODES:
        raise Invalid.at(
            ["body", "plan"], f"unknown plan {plan!r} (plans: {', '.join(PLAN_CODES)})"
        )
    if (plan == ENTERPRISE) != enterprise:
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
    if actor is not None:
        record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action=Action.APP_CREATED,
            target=target("app", app.id),
            before=None,
            after=views(session, [app])[0].model_dump(mode="json", exclude={"created_at"}),
            now=now,
        )
    return app


def update_app(
    session: Session,
    workspace_id: str,
    app_id: str,
    spec: AppUpdate,
    *,
    actor: Actor,
    now: Micros,
) -> App:
    """A new name or idle timeout (fields left out keep their values)."""
    app = get_app(session, workspace_id, app_id)
    fields = sorted(spec.model_fields_set & {"name", "idle_timeout_minutes"})
    before = {name: getattr(app, name) for name in fields}
    if spec.name is not None:
        app.name = spec.name
    if spec.idle_timeout_minutes is not None:
        app.idle_timeout_minutes = spec.idle_timeout_minutes
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.APP_UPDATED,
        target=target("app", app.id),
        before=before,
        after={name: getattr(app, name) for name in fields},
        now=now,
    )
    return app


def change_owner(
    session: Session, workspace_id: str, app_id: str, email: str, *, actor: Actor, now: Micros
) -> App:
    """Move the app to another member who may own apps (SPEC §3.5)."""
    app = get_app(session, workspace_id, app_id)
    before = views(session, [app])[0].owner_email
    owner = _owner(session, workspace_id, email, loc=["body", "email"])
    assert owner is not None
    app.owner_id = owner.id
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.APP_OWNER_CHANGED,
        target=target("app", app.id),
        before={"owner_email": before},
        after={"owner_email": views(session, [app])[0].owner_email},
        now=now,
    )
    return app


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
