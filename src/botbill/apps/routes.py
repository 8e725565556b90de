from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from botbill.apps import service
from botbill.apps.models import App
from botbill.apps.schemas import AppCreate, AppOut, AppUpdate, OwnerChange
from botbill.audit.service import Action, Actor, record, target
from botbill.kit.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    cut_page,
    decode_cursor,
)
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.workspaces.auth import Admin, Reader

router = APIRouter(prefix="/v1/apps", tags=["apps"])


def _out(session: Session, apps: list[App]) -> list[AppOut]:
    emails = service.owner_emails(session, apps)
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


@router.post("", status_code=status.HTTP_201_CREATED)
def create_app(body: AppCreate, caller: Admin, session: WriteSession, clock: ClockDep) -> AppOut:
    now = clock.now()
    app = service.create_app(session, caller.workspace_id, body, now=now)
    out = _out(session, [app])[0]
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.APP_CREATED,
        target=target("app", app.id),
        before=None,
        after=out.model_dump(mode="json", exclude={"created_at"}),
        now=now,
    )
    return out


@router.get("")
def list_apps(
    caller: Reader, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[AppOut]:
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    apps = service.list_apps(session, caller.workspace_id, after=after, limit=limit + 1)
    apps, next_cursor = cut_page(apps, limit, lambda a: [a.id])
    return Page(items=_out(session, apps), next_cursor=next_cursor)


@router.get("/{app_id}")
def get_app(app_id: str, caller: Reader, session: ReadSession) -> AppOut:
    return _out(session, [service.get_app(session, caller.workspace_id, app_id)])[0]


@router.patch("/{app_id}")
def update_app(
    app_id: str, body: AppUpdate, caller: Admin, session: WriteSession, clock: ClockDep
) -> AppOut:
    fields = body.model_fields_set & {"name", "idle_timeout_minutes"}
    app = service.get_app(session, caller.workspace_id, app_id)
    before = {name: getattr(app, name) for name in sorted(fields)}
    app = service.update_app(session, caller.workspace_id, app_id, body)
    after = {name: getattr(app, name) for name in sorted(fields)}
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.APP_UPDATED,
        target=target("app", app.id),
        before=before,
        after=after,
        now=clock.now(),
    )
    return _out(session, [app])[0]


@router.put("/{app_id}/owner")
def change_owner(
    app_id: str, body: OwnerChange, caller: Admin, session: WriteSession, clock: ClockDep
) -> AppOut:
    before = _out(session, [service.get_app(session, caller.workspace_id, app_id)])[0]
    app = service.change_owner(session, caller.workspace_id, app_id, body.email)
    out = _out(session, [app])[0]
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.APP_OWNER_CHANGED,
        target=target("app", app.id),
        before={"owner_email": before.owner_email},
        after={"owner_email": out.owner_email},
        now=clock.now(),
    )
    return out
