from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from botbill.apps import service
from botbill.apps.models import App
from botbill.apps.schemas import AppCreate, AppOut, AppUpdate, OwnerChange
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
    app = service.create_app(session, caller.workspace_id, body, now=clock.now())
    return _out(session, [app])[0]


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
def update_app(app_id: str, body: AppUpdate, caller: Admin, session: WriteSession) -> AppOut:
    return _out(session, [service.update_app(session, caller.workspace_id, app_id, body)])[0]


@router.put("/{app_id}/owner")
def change_owner(app_id: str, body: OwnerChange, caller: Admin, session: WriteSession) -> AppOut:
    app = service.change_owner(session, caller.workspace_id, app_id, body.email)
    return _out(session, [app])[0]
