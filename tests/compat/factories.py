"""Keyword-only factories for the compatibility tests: API clients, the tokens their
scripts sign, and the platform's documented sample requests."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
from sqlalchemy import func, select

from botbill.compat.models import SummaryJob
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import auth

SESSIONS_BOT_SAMPLE = {"fromDate": "2021-02-21", "toDate": "2021-07-22", "limit": 100, "skip": 0}
SESSIONS_ACCOUNT_SAMPLE = {
    "fromDate": "2021-03-21",
    "toDate": "2021-07-22",
    "limit": 100,
    "skip": 0,
}
SUMMARY_BUILDER_SAMPLE = {
    "fromDate": "2023-04-07T10:10:54.680Z",
    "toDate": "2023-04-09T10:10:54.680Z",
    "unitType": ["request", "session", "alert", "proactive", "conversations"],
    "groupByBot": "no",
    "groupByPeriod": "date_day_hour",
}
SAMPLE_STREAM = "st-13d7a88d-83cb-52bb-b847-ed32cxxxxxxx"
SUMMARY_BAC_SAMPLE = {
    "fromDate": "2022-09-01T07:18:54.089Z",
    "toDate": "2022-09-07T23:30:25.931Z",
    "unitType": ["session", "request", "alert", "proactive", "conversations"],
    "groupByBot": "yes",
    "streamIds": [SAMPLE_STREAM],
    "groupByPeriod": "date_month",
}
"""The platform's documented bodies, verbatim (whitespace aside)."""


def make_client(
    http: httpx.Client, *, key: str, scopes: list[str] | None = None, name: str = "reconcile"
) -> tuple[str, str]:
    """A new API client's id and secret."""
    body: dict[str, Any] = {"name": name}
    if scopes is not None:
        body["scopes"] = scopes
    response = http.post("/v1/api-clients", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    issued = response.json()
    return issued["client_id"], issued["client_secret"]


def token(client_id: str, secret: str, **claims: Any) -> str:
    """A JWT as the platform's docs build one: ``sub`` any, ``appId`` the client id."""
    return jwt.encode({"sub": "1234567890", "appId": client_id, **claims}, secret, "HS256")


def platform(token_text: str) -> dict[str, str]:
    """The documented headers: ``auth: {{JWT}}`` and ``content-type: application/json``."""
    return {"auth": token_text, "content-type": "application/json"}


def errors(response: httpx.Response, status: int) -> str:
    """The message of a refusal in the platform's shape, after checking that shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert set(error) == {"msg", "code"}
    assert error["code"] == status
    assert isinstance(error["msg"], str)
    assert error["msg"]
    message: str = error["msg"]
    return message


def summary_jobs(server: Server) -> int:
    with unit_of_work(server.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(SummaryJob)) or 0
