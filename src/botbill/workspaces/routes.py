from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, Reader
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.settings import Settings
from botbill.workspaces import service
from botbill.workspaces.models import Member
from botbill.workspaces.schemas import MemberCreate, MemberCreated, MemberOut, MemberUpdate

router = APIRouter(prefix="/v1/members", tags=["members"])


def _out(member: Member) -> MemberOut:
    return MemberOut(
        email=member.email,
        name=member.name,
        role=member.role,
        created_at=member.created_at,
        has_password=member.password_hash is not None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Already a member of this workspace"}},
)
def add_member(
    body: MemberCreate, caller: Admin, session: WriteSession, clock: ClockDep, request: Request
) -> MemberCreated:
    now = clock.now()
    member = service.add_member(
        session, caller.workspace_id, body, actor=Actor.admin(caller.key_id), now=now
    )
    settings: Settings = request.app.state.settings
    token = service.invitation_token(member, secret=settings.secret_key, now=now)
    url = f"{str(request.base_url).rstrip('/')}/console/invitation/{token}"
    return MemberCreated(**_out(member).model_dump(), invitation_url=url)


@router.get("")
def list_members(
    caller: Reader, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[MemberOut]:
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    members = service.list_members(session, caller.workspace_id, after=after, limit=limit + 1)
    members, next_cursor = cut_page(members, limit, lambda m: [m.email])
    return Page(items=[_out(m) for m in members], next_cursor=next_cursor)


@router.patch(
    "/{email}", responses={409: {"description": "The member owns apps this role may not own"}}
)
def change_role(
    email: str, body: MemberUpdate, caller: Admin, session: WriteSession, clock: ClockDep
) -> MemberOut:
    member = service.change_role(
        session,
        caller.workspace_id,
        email,
        body.role,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return _out(member)


@router.delete(
    "/{email}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The member owns apps; move them first"}},
)
def remove_member(email: str, caller: Admin, session: WriteSession, clock: ClockDep) -> Response:
    service.remove_member(
        session, caller.workspace_id, email, actor=Actor.admin(caller.key_id), now=clock.now()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
