"""HTTP routes of the api_keys package (API.md "API keys"; admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from botbill.api_keys import service
from botbill.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, key_out
from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, forget
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.web import ClockDep, ReadSession, WriteSession

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@router.get("")
def list_api_keys(
    caller: Admin, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[ApiKeyOut]:
    """The workspace's keys, revoked ones included; never a secret."""
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    keys = service.list_keys(session, caller.workspace_id, after=after, limit=limit + 1)
    keys, next_cursor = cut_page(keys, limit, lambda k: [k.id])
    return Page(items=[key_out(k) for k in keys], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_key(
    body: ApiKeyCreate, caller: Admin, session: WriteSession, clock: ClockDep
) -> ApiKeyCreated:
    """A new key; its `secret` is in this answer only."""
    issued = service.issue(
        session,
        caller.workspace_id,
        name=body.name,
        scopes=body.scopes,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return ApiKeyCreated(**key_out(issued.key).model_dump(), secret=issued.secret)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The key is already revoked"}},
)
def revoke_api_key(key_id: str, caller: Admin, session: WriteSession, clock: ClockDep) -> Response:
    """Revoke a key: refused from the next request on (other server processes stop
    trusting their cached check within seconds). The key making the request may revoke
    itself."""
    service.revoke(
        session, caller.workspace_id, key_id, actor=Actor.admin(caller.key_id), now=clock.now()
    )
    # Forgotten here, just before the commit: the client's next request finds the key
    # revoked. A request racing this one may cache it as live again, for at most
    # KEY_CACHE_SECONDS, like every other server process.
    forget(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
