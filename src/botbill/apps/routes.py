from __future__ import annotations

from fastapi import APIRouter, status

from botbill.apps import service
from botbill.apps.schemas import AppCreate, AppOut, AppUpdate, OwnerChange
from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, Reader
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.workspaces import service as workspaces

router = APIRouter(prefix="/v1/apps", tags=["apps"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The workspace already has an app with this id"}},
)
def create_app(body: AppCreate, caller: Admin, session: WriteSession, clock: ClockDep) -> AppOut:
    actor = Actor.admin(caller.key_id)
    app = service.create_app(session, caller.workspace_id, body, actor=actor, now=clock.now())
    return service.views(session, [app])[0]


@router.get("")
def list_apps(
    caller: Reader, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[AppOut]:
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    apps = workspaces.list_apps(session, caller.workspace_id, after=after, limit=limit + 1)
    apps, next_cursor = cut_page(apps, limit, lambda a: [a.id])
    return Page(items=service.views(session, apps), next_cursor=next_cursor)


@router.get("/{app_id}")
def get_app(app_id: str, caller: Reader, session: ReadSession) -> AppOut:
    return service.views(session, [workspaces.get_app(session, caller.workspace_id, app_id)])[0]


@router.patch("/{app_id}")
def update_app(
    app_id: str, body: AppUpdate, caller: Admin, session: WriteSession, clock: ClockDep
) -> AppOut:
    app = service.update_app(
        session,
        caller.workspace_id,
        app_id,
        body,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return service.views(session, [app])[0]


@router.put("/{app_id}/owner")
def change_owner(
    app_id: str, body: OwnerChange, caller: Admin, session: WriteSession, clock: ClockDep
) -> AppOut:
    app = service.change_owner(
        session,
        caller.workspace_id,
        app_id,
        body.email,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return service.views(session, [app])[0]
