"""The checked-key cache: keyed by the key's digest, so no plaintext key outlives its
request in the server's memory."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update

from botbill.auth import dependencies as workspace_auth
from botbill.auth.keys import hash_secret
from botbill.auth.models import ApiKey
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import auth, make_workspace, problem


def test_the_cache_holds_the_digest_of_a_key_not_the_key(
    server: Server, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace_auth, "KEY_CACHE_SECONDS", 600.0)
    workspace_id, key = make_workspace(server.engine)
    assert http.get("/v1/apps", headers=auth(key)).status_code == 200
    cached = workspace_auth._checked
    assert key not in cached
    assert all(key not in str(entry) for entry in cached.items())
    assert cached[hash_secret(key)][0].workspace_id == workspace_id

    # The digest's entry is what answers: a revoked key works until it is dropped.
    with unit_of_work(server.engine, write=True) as session:
        session.execute(update(ApiKey).values(revoked_at=datetime(2026, 11, 26, tzinfo=UTC)))
    assert http.get("/v1/apps", headers=auth(key)).status_code == 200
    del cached[hash_secret(key)]
    problem(http.get("/v1/apps", headers=auth(key)), 401)
