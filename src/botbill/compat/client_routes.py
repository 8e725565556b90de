"""``/v1/api-clients``: a workspace admin issues, lists and revokes API clients."""

from __future__ import annotations

from fastapi import APIRouter, status

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin
from botbill.compat import clients
from botbill.compat.schemas import ApiClientCreate, ApiClientIssued, ApiClientOut
from botbill.kit.pagination import Page
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.orders.web import SettingsDep

router = APIRouter(prefix="/v1/api-clients", tags=["api clients"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_client(
    body: ApiClientCreate,
    caller: Admin,
    session: WriteSession,
    clock: ClockDep,
    settings: SettingsDep,
) -> ApiClientIssued:
    issued = clients.create_client(
        session,
        workspace_id=caller.workspace_id,
        name=body.name,
        scopes=body.scopes,
        secret_key=settings.secret_key,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return ApiClientIssued(
        **ApiClientOut.of(issued.client).model_dump(), client_secret=issued.secret
    )


@router.get("")
def list_api_clients(caller: Admin, session: ReadSession) -> Page[ApiClientOut]:
    """Every client of the workspace, revoked ones included (never a secret)."""
    found = clients.list_clients(session, workspace_id=caller.workspace_id)
    return Page(items=[ApiClientOut.of(client) for client in found], next_cursor=None)


@router.delete("/{client_id}")
def revoke_api_client(
    client_id: str, caller: Admin, session: WriteSession, clock: ClockDep
) -> ApiClientOut:
    """Revoke a client: its tokens are refused from the next request on."""
    client = clients.revoke_client(
        session,
        workspace_id=caller.workspace_id,
        client_id=client_id,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return ApiClientOut.of(client)
