"""Workspaces, their API keys and members. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.auth.keys import Scope
from botbill.auth.service import IssuedKey, create_key
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import check_currency
from botbill.kit.problems import Conflict, NotFound
from botbill.kit.timezones import check_timezone
from botbill.workspaces.models import App, Member, Workspace
from botbill.workspaces.schemas import MemberCreate, Role


def create_workspace(
    session: Session, *, name: str, timezone: str, currency: str, now: Micros
) -> tuple[Workspace, IssuedKey]:
    """A new workspace with one ``admin`` key, whose secret is returned only here."""
    name = name.strip()
    if not name:
        raise ValueError("a workspace needs a name")
    workspace = Workspace(
        id=new_id("ws"),
        name=name,
        timezone=check_timezone(timezone),
        currency=check_currency(currency.upper()),
        account_type="self-serve",
        created_at=from_micros(now),
    )
    session.add(workspace)
    session.flush()
    issued = create_key(
        session, workspace_id=workspace.id, name="bootstrap", scopes=[Scope.ADMIN], now=now
    )
    return workspace, issued


def workspace_ids(session: Session) -> list[str]:
    """Every workspace's id, in order."""
    return list(session.scalars(select(Workspace.id).order_by(Workspace.id)))


def get_workspace(session: Session, workspace_id: str) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    return workspace


def list_members(
    session: Session, workspace_id: str, *, after: str | None = None, limit: int = 50
) -> list[Member]:
    query = select(Member).where(Member.workspace_id == workspace_id)
    if after is not None:
        query = query.where(Member.email > after)
    return list(session.scalars(query.order_by(Member.email).limit(limit)))


def find_member(session: Session, workspace_id: str, email: str) -> Member | None:
    if "\x00" in email:  # never stored (PostgreSQL text cannot hold it)
        return None
    return session.scalars(
        select(Member).where(Member.workspace_id == workspace_id, Member.email == email.lower())
    ).one_or_none()


def get_member(session: Session, workspace_id: str, email: str) -> Member:
    member = find_member(session, workspace_id, email)
    if member is None:
        raise NotFound(f"no member {email!r} in this workspace")
    return member


def add_member(
    session: Session,
    workspace_id: str,
    spec: MemberCreate,
    *,
    actor: Actor | None = None,
    now: Micros,
) -> Member:
    """A new member; ``actor``: recorded in the audit log (a workspace's own set-up,
    such as its first owner, is not)."""
    if find_member(session, workspace_id, spec.email) is not None:
        raise Conflict(f"{spec.email!r} is already a member of this workspace")
    member = Member(
        id=new_id("mem"),
        workspace_id=workspace_id,
        email=spec.email,
        name=spec.name,
        role=spec.role.value,
        # One password per email: a new membership signs in with the one already set.
        password_hash=session.scalars(
            select(Member.password_hash)
            .where(Member.email == spec.email, Member.password_hash.is_not(None))
            .limit(1)
        ).first(),
        created_at=from_micros(now),
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:  # the same email, added by a concurrent request
        raise Conflict(f"{spec.email!r} is already a member of this workspace") from None
    if actor is not None:
        record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action=Action.MEMBER_ADDED,
            target=target("member", member.email),
            before=None,
            after={"email": member.email, "name": member.name, "role": member.role},
            now=now,
        )
    return member


INVITATION_SECONDS = 7 * 86_400


def invitation_token(member: Member, *, secret: str, now: Micros) -> str:
    """The token of a member's invitation link, valid for 7 days. Nothing is stored: it
    signs the member, its expiry and the member's password state, so a password set by
    any way spends every link issued before (the people package checks it)."""
    expires = now // 1_000_000 + INVITATION_SECONDS
    return f"{member.id}.{expires}.{invitation_signature(member, expires, secret=secret)}"


def invitation_signature(member: Member, expires: int, *, secret: str) -> str:
    message = f"invitation|{member.id}|{expires}|{member.password_hash or ''}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def change_role(
    session: Session, workspace_id: str, email: str, role: Role, *, actor: Actor, now: Micros
) -> Member:
    member = get_member(session, workspace_id, email)
    before = member.role
    if role not in {Role.OWNER, Role.ADMIN, Role.DEVELOPER} and _owns_apps(session, member):
        raise Conflict(f"{email!r} owns apps; move them to another owner before this role change")
    member.role = role.value
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.MEMBER_ROLE_CHANGED,
        target=target("member", member.email),
        before={"role": before},
        after={"role": member.role},
        now=now,
    )
    return member


def remove_member(
    session: Session, workspace_id: str, email: str, *, actor: Actor, now: Micros
) -> None:
    member = get_member(session, workspace_id, email)
    if _owns_apps(session, member):
        raise Conflict(f"{email!r} owns apps; move them to another owner first")
    gone = {"email": member.email, "name": member.name, "role": member.role}
    session.delete(member)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.MEMBER_REMOVED,
        target=target("member", gone["email"]),
        before=gone,
        after=None,
        now=now,
    )


def _owns_apps(session: Session, member: Member) -> bool:
    owned = session.scalars(
        select(App.id).where(App.workspace_id == member.workspace_id, App.owner_id == member.id)
    ).first()
    return owned is not None


# --- apps -----------------------------------------------------------------------------


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


def owner_emails(session: Session, apps: Sequence[App]) -> dict[str, str]:
    ids = {app.owner_id for app in apps if app.owner_id}
    if not ids:
        return {}
    emails: dict[str, str] = {}
    for member_id, email in session.execute(
        select(Member.id, Member.email).where(Member.id.in_(ids))
    ):
        emails[member_id] = email
    return emails
