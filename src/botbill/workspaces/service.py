"""Workspaces, their API keys and members. Services flush; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import check_currency
from botbill.kit.problems import Conflict, NotFound
from botbill.kit.timezones import check_timezone
from botbill.workspaces.keys import Scope, generate_key, hash_secret
from botbill.workspaces.models import ApiKey, Member, Workspace
from botbill.workspaces.schemas import MemberCreate, Role


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    secret: str


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
        session, workspace=workspace, name="bootstrap", scopes=[Scope.ADMIN], now=now
    )
    return workspace, issued


def create_key(
    session: Session, *, workspace: Workspace, name: str, scopes: Iterable[Scope], now: Micros
) -> IssuedKey:
    new_key = generate_key()
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace.id,
        name=name,
        prefix=new_key.prefix,
        secret_hash=new_key.secret_hash,
        scopes=",".join(sorted(scope.value for scope in scopes)),
        created_at=from_micros(now),
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, secret=new_key.secret)


def find_key(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, if any."""
    key = session.scalars(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret))
    ).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key


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


def add_member(session: Session, workspace_id: str, spec: MemberCreate, *, now: Micros) -> Member:
    if find_member(session, workspace_id, spec.email) is not None:
        raise Conflict(f"{spec.email!r} is already a member of this workspace")
    member = Member(
        id=new_id("mem"),
        workspace_id=workspace_id,
        email=spec.email,
        name=spec.name,
        role=spec.role.value,
        created_at=from_micros(now),
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:  # the same email, added by a concurrent request
        raise Conflict(f"{spec.email!r} is already a member of this workspace") from None
    return member


def change_role(session: Session, workspace_id: str, email: str, role: Role) -> Member:
    member = get_member(session, workspace_id, email)
    if role not in {Role.OWNER, Role.ADMIN, Role.DEVELOPER} and _owns_apps(session, member):
        raise Conflict(f"{email!r} owns apps; move them to another owner before this role change")
    member.role = role.value
    session.flush()
    return member


def remove_member(session: Session, workspace_id: str, email: str) -> None:
    member = get_member(session, workspace_id, email)
    if _owns_apps(session, member):
        raise Conflict(f"{email!r} owns apps; move them to another owner first")
    session.delete(member)
    session.flush()


def _owns_apps(session: Session, member: Member) -> bool:
    owned = session.scalars(
        select(App.id).where(App.workspace_id == member.workspace_id, App.owner_id == member.id)
    ).first()
    return owned is not None
