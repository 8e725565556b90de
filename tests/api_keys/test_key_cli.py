"""``botbill key create|list|revoke``: the same service as the HTTP API, audited as ``cli``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from botbill.audit.models import AuditEntry
from botbill.auth.models import ApiKey
from botbill.kit.db import build_engine, unit_of_work
from botbill.migrations import upgrade
from tests.factories import auth, make_workspace, run_botbill
from tests.workspaces.test_workspace_cli import api, said

__all__ = ["api"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'botbill.db'}"


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = build_engine(database_url)
    upgrade(engine)
    return engine


def keys(engine: Engine) -> list[tuple[str, str | None]]:
    with unit_of_work(engine, write=False) as session:
        return [
            (k.id, k.revoked_at.isoformat() if k.revoked_at else None)
            for k in session.scalars(select(ApiKey).order_by(ApiKey.id))
        ]


def test_create_list_and_revoke(database_url: str, engine: Engine, api: httpx.Client) -> None:
    workspace_id, admin = make_workspace(engine)
    created = run_botbill(
        "key", "create", "--workspace", workspace_id, "--scopes", "read", "--name", "ci",
        "--json", database_url=database_url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    printed = json.loads(created.stdout)
    assert api.get("/v1/apps", headers=auth(printed["api_key"])).status_code == 200

    listed = run_botbill(
        "key", "list", "--workspace", workspace_id, "--json", database_url=database_url
    )
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert printed["key_id"] in {row["id"] for row in rows}
    assert printed["api_key"] not in listed.stdout
    mine = next(row for row in rows if row["id"] == printed["key_id"])
    assert (mine["name"], mine["scopes"], mine["revoked_at"]) == ("ci", ["read"], None)

    revoked = run_botbill(
        "key", "revoke", printed["key_id"], "--workspace", workspace_id, database_url=database_url
    )
    assert revoked.returncode == 0, revoked.stderr
    assert printed["key_id"] in said(revoked)
    # The test server caches a checked key for a few seconds; a fresh key never was.
    assert dict(keys(engine))[printed["key_id"]] is not None
    plain = run_botbill("key", "list", "--workspace", workspace_id, database_url=database_url)
    assert f"{printed['key_id']}\trevoked\tread" in plain.stdout
    assert api.get("/v1/api-keys", headers=auth(admin)).status_code == 200

    with unit_of_work(engine, write=False) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_kind, e.target) for e in entries] == [
            ("api_key.created", "cli", f"api_key:{printed['key_id']}"),
            ("api_key.revoked", "cli", f"api_key:{printed['key_id']}"),
        ]


@pytest.mark.parametrize("which", ["unknown", "other workspace", "already revoked"])
def test_revoke_refuses_clearly_and_changes_nothing(
    database_url: str, engine: Engine, which: str
) -> None:
    workspace_id, _ = make_workspace(engine)
    other_id, _ = make_workspace(engine, name="Other")
    mine, theirs = _key_of(engine, workspace_id), _key_of(engine, other_id)
    target = {"unknown": "key_nope", "other workspace": theirs, "already revoked": mine}[which]
    if which == "already revoked":
        first = run_botbill(
            "key", "revoke", mine, "--workspace", workspace_id, database_url=database_url
        )
        assert first.returncode == 0, first.stderr
    before = keys(engine)
    result = run_botbill(
        "key", "revoke", target, "--workspace", workspace_id, database_url=database_url
    )
    assert result.returncode == 2
    assert target in said(result)
    assert "Traceback" not in result.stderr
    assert keys(engine) == before


def _key_of(engine: Engine, workspace_id: str) -> str:
    with unit_of_work(engine, write=False) as session:
        return session.scalars(select(ApiKey.id).where(ApiKey.workspace_id == workspace_id)).one()


def test_list_of_an_unknown_workspace(database_url: str, engine: Engine) -> None:
    result = run_botbill("key", "list", "--workspace", "ws_nope", database_url=database_url)
    assert result.returncode == 2
    assert "ws_nope" in said(result)
