"""Keyword-only factories for the plan-extension tests: asking and deciding over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import auth


def ask(http: httpx.Client, key: str, app_id: str = "support-bot", **body: Any) -> httpx.Response:
    return http.post(f"/v1/apps/{app_id}/extension-requests", json=body, headers=auth(key))


def decide(http: httpx.Client, key: str, request_id: str, **body: Any) -> httpx.Response:
    return http.post(f"/v1/extension-requests/{request_id}/decision", json=body, headers=auth(key))


def asked(http: httpx.Client, key: str, app_id: str = "support-bot", days: int = 14) -> str:
    response = ask(http, key, app_id, days=days, reason="launch week")
    assert response.status_code == 201, response.text
    request_id: str = response.json()["id"]
    return request_id
