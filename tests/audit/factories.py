"""Keyword-only factories for the audit-log tests: the log as a client reads it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from botbill.auth.models import ApiKey
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import auth
from tests.wallet.accounts import Tenant


def log(http: httpx.Client, key: str, **query: Any) -> list[dict[str, Any]]:
    response = http.get("/v1/audit-log", params=query, headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def key_id(server: Server, who: Tenant) -> str:
    """The id of the tenant's admin key (the only key of a new workspace)."""
    with unit_of_work(server.engine, write=False) as session:
        return session.scalars(
            select(ApiKey.id).where(ApiKey.workspace_id == who.workspace_id)
        ).one()
