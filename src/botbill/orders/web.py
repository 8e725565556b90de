"""Request plumbing of the money routes: settings, the card provider, Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from botbill.orders.idempotency import HEADER, Reply, check_key
from botbill.orders.providers import CardProvider, card_provider
from botbill.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_cards(settings: Annotated[Settings, Depends(get_app_settings)]) -> CardProvider:
    return card_provider(settings.effective_card_provider)


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Repeat a request safely: a repeat returns the first answer.",
        ),
    ] = None,
) -> str | None:
    return None if key is None else check_key(key)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CardsDep = Annotated[CardProvider, Depends(get_cards)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def reply_response(reply: Reply) -> JSONResponse:
    """A write's answer; a replayed one says so (``Idempotent-Replayed: true``)."""
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else None
    return JSONResponse(reply.body, status_code=reply.status_code, headers=headers)
