from __future__ import annotations

from fastapi import APIRouter, Response, status

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    cut_page,
    decode_cursor,
)
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.workspaces import service
from botbill.workspaces.auth import Admin, Reader
from botbill.workspaces.models import Member
from botbill.workspaces.schemas import MemberCreate, MemberOut, MemberUpdate

router = APIRouter(prefix="/v1/members", tags=["members"])


def _out(member: Member) -> MemberOut:
    return MemberOut(
        email=member.email,
        name=member.name,
        role=member.role,
        created_at=member.created_at,
        has_password=member.password_hash is not None,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def add_member(
    body: MemberCreate, caller: Admin, session: WriteSession, clock: ClockDep
) -> MemberOut:
    now = clock.now()
    member = service.add_member(session, caller.workspace_id, body, now=now)
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.MEMBER_ADDED,
        target=target("member", member.email),
        before=None,
        after={"email": member.email, "name": member.name, "role": member.role},
        now=now,
    )
    return _out(member)


@router.get("")
def list_members(
    caller: Reader, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[MemberOut]:
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    members = service.list_members(session, caller.workspace_id, after=after, limit=limit + 1)
    members, next_cursor = cut_page(members, limit, lambda m: [m.email])
    return Page(items=[_out(m) for m in members], next_cursor=next_cursor)


@router.patch("/{email}")
def change_role(
    email: str, body: MemberUpdate, caller: Admin, session: WriteSession, clock: ClockDep
) -> MemberOut:
    before = service.get_member(session, caller.workspace_id, email).role
    member = service.change_role(session, caller.workspace_id, email, body.role)
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.MEMBER_ROLE_CHANGED,
        target=target("member", member.email),
        before={"role": before},
        after={"role": member.role},
        now=clock.now(),
    )
    return _out(member)


@router.delete("/{email}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(email: str, caller: Admin, session: WriteSession, clock: ClockDep) -> Response:
    member = service.get_member(session, caller.workspace_id, email)
    gone = {"email": member.email, "name": member.name, "role": member.role}
    service.remove_member(session, caller.workspace_id, email)
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=Action.MEMBER_REMOVED,
        target=target("member", gone["email"]),
        before=gone,
        after=None,
        now=clock.now(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
