from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from botbill.audit import service
from botbill.audit.models import TARGET_LENGTH
from botbill.audit.schemas import AuditEntryOut, entry_out
from botbill.auth.dependencies import Admin
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import Invalid
from botbill.kit.web import ReadSession

router = APIRouter(tags=["audit"])


@router.get("/v1/audit-log")
def list_audit_log(
    caller: Admin,
    session: ReadSession,
    action: Annotated[
        service.Action | None, Query(description="Only this action, e.g. `app.owner_changed`.")
    ] = None,
    target: Annotated[
        str | None,
        Query(max_length=TARGET_LENGTH, description="Only this target, e.g. `app:support-bot`."),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[AuditEntryOut]:
    """Every admin and operator action on this workspace, newest first (admin key).

    Each entry says who (`actor`), what (`action` on `target`), when (`at`), and the
    changed fields `before` and `after`. Refused requests leave no entry.
    """
    position = decode_cursor(cursor, arity=1)
    before_id = None
    if position is not None:
        if type(position[0]) is not int:
            raise Invalid.at(["query", "cursor"], "not a cursor this API issued")
        before_id = position[0]
    if target is not None and "\x00" in target:
        raise Invalid.at(["query", "target"], "must not contain NUL (\\u0000) characters")
    entries = service.list_entries(
        session,
        caller.workspace_id,
        action=action,
        target=target,
        before_id=before_id,
        limit=limit + 1,
    )
    entries, next_cursor = cut_page(entries, limit, lambda e: [e.id])
    return Page(items=[entry_out(e) for e in entries], next_cursor=next_cursor)
