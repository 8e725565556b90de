from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, OperatorDep, Reader
from botbill.extensions import service
from botbill.extensions.models import ExtensionRequest
from botbill.extensions.rules import Status
from botbill.extensions.schemas import (
    ExtensionDecision,
    ExtensionRequestCreate,
    ExtensionRequestOut,
    request_out,
)
from botbill.kit.db import unit_of_work
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import FieldError, Invalid
from botbill.kit.web import ClockDep, EngineDep, ReadSession
from botbill.orders.web import CardsDep
from botbill.workspaces.service import get_app, get_workspace

router = APIRouter(tags=["extensions"])

StatusQuery = Annotated[Status | None, Query(description="Only requests in this status.")]


@router.post(
    "/v1/apps/{app_id}/extension-requests",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "Enterprise workspace, or a plan that takes no extension"},
        409: {"description": "A request for this app is pending, or the state allows none"},
    },
)
def request_extension(
    app_id: str,
    body: ExtensionRequestCreate,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
) -> ExtensionRequestOut:
    """Ask an operator for `days` more days of the app's current period (admin key).

    For a fee plan or a trial whose period is running or ended less than 30 days ago; the
    extended period must end in the future. One pending request per app.
    """
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        request = service.request_extension(
            session,
            workspace,
            app_id,
            days=body.days,
            reason=body.reason,
            actor=Actor.admin(caller.key_id),
            cards=cards,
            now=now,
        )
        return request_out(request, workspace.timezone)


def _after(cursor: str | None) -> tuple[int, str] | None:
    position = decode_cursor(cursor, arity=2)
    if position is None:
        return None
    at, request_id = position
    if type(at) is not int or not isinstance(request_id, str):
        raise Invalid.at(["query", "cursor"], "not a cursor this API issued")
    return at, request_id


def _page(
    session: Session, requests: list[ExtensionRequest], limit: int, tz: dict[str, str]
) -> Page[ExtensionRequestOut]:
    requests, next_cursor = cut_page(requests, limit, lambda r: [r.requested_at, r.id])
    for workspace_id in {r.workspace_id for r in requests} - tz.keys():
        tz[workspace_id] = get_workspace(session, workspace_id).timezone
    return Page(
        items=[request_out(r, tz[r.workspace_id]) for r in requests], next_cursor=next_cursor
    )


@router.get("/v1/extension-requests")
def list_extension_requests(
    caller: Reader,
    session: ReadSession,
    status: StatusQuery = None,
    app_id: Annotated[str | None, Query(description="Only this app's requests.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ExtensionRequestOut]:
    """The workspace's extension requests, newest first."""
    after = _after(cursor)
    workspace = get_workspace(session, caller.workspace_id)
    if app_id is not None:
        get_app(session, workspace.id, app_id)
    requests = service.list_requests(
        session, workspace.id, status=status, app_id=app_id, after=after, limit=limit + 1
    )
    return _page(session, requests, limit, {workspace.id: workspace.timezone})


@router.get("/v1/extension-requests/{request_id}")
def get_extension_request(
    request_id: str, caller: Reader, session: ReadSession
) -> ExtensionRequestOut:
    """One of the workspace's extension requests."""
    workspace = get_workspace(session, caller.workspace_id)
    return request_out(service.get_request(session, workspace.id, request_id), workspace.timezone)


@router.get("/v1/operator/extension-requests")
def list_all_extension_requests(
    operator: OperatorDep,
    session: ReadSession,
    status: StatusQuery = None,
    workspace_id: Annotated[str | None, Query(description="Only this workspace's.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ExtensionRequestOut]:
    """Operators: every workspace's extension requests, newest first (`?status=pending`
    is the queue to decide)."""
    after = _after(cursor)
    requests = service.list_requests(
        session, workspace_id, status=status, after=after, limit=limit + 1
    )
    return _page(session, requests, limit, {})


async def _decision(operator: OperatorDep, request: Request) -> ExtensionDecision:
    """The decision's body, read only once the caller is known to be an operator.

    FastAPI would validate a declared body before any dependency runs, and its error
    handler only knows workspace keys; reading it here keeps 401 and 403 ahead of 422.
    """
    try:
        raw: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise Invalid.at(["body"], f"not valid JSON ({error})") from None
    try:
        return ExtensionDecision.model_validate(raw)
    except ValidationError as error:
        errors = [FieldError(["body", *e["loc"]], e["msg"]) for e in error.errors()]
        summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
        raise Invalid(summary, errors=errors) from None


_DECISION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ExtensionDecision.model_json_schema()}},
    }
}


@router.post(
    "/v1/extension-requests/{request_id}/decision",
    openapi_extra=_DECISION_BODY,
    responses={
        409: {"description": "Already decided, or the app can no longer be extended"},
        422: {"description": "A malformed body"},
    },
)
def decide_extension_request(
    request_id: str,
    operator: OperatorDep,
    body: Annotated[ExtensionDecision, Depends(_decision)],
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
) -> ExtensionRequestOut:
    """Operators: approve (the app's period end moves by the days asked) or reject.

    Body: `{"approve": true, "note": "..."}`; `note` is optional, trimmed, at most 500
    characters, and shown to the workspace with the outcome.
    """
    with unit_of_work(engine, write=True) as session:
        decided = service.decide(
            session,
            request_id,
            approve=body.approve,
            note=body.note,
            actor=Actor.operator(operator.key_id),
            cards=cards,
            now=clock.now(),
        )
        return request_out(decided.request, decided.workspace.timezone)
