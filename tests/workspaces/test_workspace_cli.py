"""The bootstrap command line: ``botbill workspace create``, ``key create``, ``migrate``.

Each test runs the installed ``botbill`` over its own SQLite file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text

from botbill.app import create_app
from botbill.auth.keys import hash_secret
from botbill.auth.models import ApiKey
from botbill.kit.clock import FrozenClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.kit.instants import to_micros
from botbill.migrations import alembic_config, upgrade
from botbill.models import metadata
from botbill.settings import Settings
from botbill.workspaces.models import Workspace
from tests.factories import T0, auth, event, make_workspace, run_botbill, serving


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'botbill.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def api(database_url: str) -> Iterator[httpx.Client]:
    """The HTTP API over the same database, clock at ``T0``."""
    settings = Settings(
        environment="test", database_url=database_url, migrate_on_start=False, jobs_enabled=False
    )
    with (
        serving(create_app(settings, clock=FrozenClock(to_micros(T0)))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def said(result: object) -> str:
    """stderr with whitespace runs collapsed (the console may wrap lines)."""
    return " ".join(str(getattr(result, "stderr", "")).split())


def count(engine: Engine, model: type[Workspace] | type[ApiKey]) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def create_workspace(database_url: str, *extra: str) -> dict[str, str]:
    result = run_botbill("workspace", "create", "Acme", *extra, "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    created: dict[str, str] = json.loads(result.stdout)
    return created


# -- workspace create --------------------------------------------------------------------


def test_workspace_create_prints_id_and_an_admin_key(
    database_url: str, engine: Engine, api: httpx.Client
) -> None:
    result = run_botbill(
        "workspace",
        "create",
        "Acme Support",
        "--timezone",
        "Asia/Kolkata",
        "--currency",
        "inr",
        "--json",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == {"workspace_id", "api_key"}
    assert result.stdout.strip() == json.dumps(printed)

    with unit_of_work(engine, write=False) as session:
        workspace = session.get(Workspace, printed["workspace_id"])
        assert workspace is not None
        assert (workspace.name, workspace.timezone, workspace.currency, workspace.account_type) == (
            "Acme Support",
            "Asia/Kolkata",
            "INR",
            "self-serve",
        )
        [key] = session.scalars(select(ApiKey)).all()
        assert key.workspace_id == workspace.id
        assert key.scope_set == {"admin"}
        # Stored as a digest only.
        assert key.secret_hash == hash_secret(printed["api_key"])
        assert printed["api_key"] not in (key.secret_hash, key.prefix)

    admin = auth(printed["api_key"])
    created = api.post("/v1/apps", json={"id": "support-bot", "name": "Support"}, headers=admin)
    assert created.status_code == 201, created.text
    assert api.get("/v1/apps/support-bot", headers=admin).status_code == 200
    member = {"email": "ann@acme.example", "name": "Ann", "role": "owner"}
    assert api.post("/v1/members", json=member, headers=admin).status_code == 201
    sent = event("conversation.started", at=T0, conversation_id="c-1")
    ingested = api.post("/v1/events", json=sent, headers=admin)
    assert ingested.json() == {"accepted": 1, "duplicates": 0}


def test_workspace_create_defaults_and_plain_output(database_url: str, engine: Engine) -> None:
    result = run_botbill("workspace", "create", "Acme", database_url=database_url)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("bb_")
    assert "\n" not in secret
    with unit_of_work(engine, write=False) as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.timezone, workspace.currency) == ("UTC", "USD")
        assert workspace.id in said(result)
        key = session.scalars(select(ApiKey)).one()
        assert key.secret_hash == hash_secret(secret)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--timezone", "Mars/Olympus"], ["Mars/Olympus", "IANA"]),
        (["--timezone", "utc"], ["utc", "IANA"]),
        (["--currency", "XYZ"], ["XYZ", "ISO 4217"]),
        (["--currency", ""], ["ISO 4217"]),
    ],
    ids=["unknown zone", "zone in lower case", "XYZ", "empty currency"],
)
def test_workspace_create_refuses_bad_settings(
    database_url: str, engine: Engine, options: list[str], words: list[str]
) -> None:
    result = run_botbill(
        "workspace", "create", "Acme", *options, "--json", database_url=database_url
    )
    assert result.returncode != 0
    assert result.stdout == ""
    for word in words:
        assert word in said(result), result.stderr
    assert "Traceback" not in result.stderr
    assert count(engine, Workspace) == 0
    assert count(engine, ApiKey) == 0


def test_workspace_create_refuses_a_blank_name(database_url: str, engine: Engine) -> None:
    result = run_botbill("workspace", "create", "   ", "--json", database_url=database_url)
    assert result.returncode != 0
    assert "name" in said(result)
    assert "Traceback" not in result.stderr
    assert count(engine, Workspace) == 0


# -- key create --------------------------------------------------------------------------


def test_ingest_key_may_only_ingest(database_url: str, engine: Engine, api: httpx.Client) -> None:
    workspace = create_workspace(database_url)
    admin = auth(workspace["api_key"])
    assert api.post("/v1/apps", json={"id": "support-bot", "name": "S"}, headers=admin).is_success

    result = run_botbill(
        "key",
        "create",
        "--workspace",
        workspace["workspace_id"],
        "--scopes",
        "ingest",
        "--json",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["scopes"] == ["ingest"]
    ingest = auth(printed["api_key"])
    sent = event("conversation.started", at=T0, conversation_id="c-1")
    assert api.post("/v1/events", json=sent, headers=ingest).json() == {
        "accepted": 1,
        "duplicates": 0,
    }
    assert api.get("/v1/apps", headers=ingest).status_code == 403
    assert api.post("/v1/apps", json={"name": "X"}, headers=ingest).status_code == 403
    with unit_of_work(engine, write=False) as session:
        key = session.scalars(select(ApiKey).where(ApiKey.id == printed["key_id"])).one()
        assert key.workspace_id == workspace["workspace_id"]
        assert key.scope_set == {"ingest"}


def test_read_and_ingest_key(database_url: str, engine: Engine, api: httpx.Client) -> None:
    upgrade(engine)
    workspace_id, _ = make_workspace(engine)
    result = run_botbill(
        "key",
        "create",
        "--workspace",
        workspace_id,
        "--scopes",
        " read , ingest ",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    key = auth(result.stdout.strip())
    assert api.get("/v1/apps", headers=key).status_code == 200
    assert api.get("/v1/members", headers=key).status_code == 200
    assert api.post("/v1/members", json={}, headers=key).status_code == 403


@pytest.mark.parametrize(
    ("scopes", "words"),
    [
        ("superuser", ["superuser", "ingest", "read", "admin"]),
        ("ingest,root", ["root"]),
        (",", ["scope"]),
    ],
)
def test_key_create_refuses_unknown_scopes(
    database_url: str, engine: Engine, scopes: str, words: list[str]
) -> None:
    upgrade(engine)
    workspace_id, _ = make_workspace(engine)
    result = run_botbill(
        "key",
        "create",
        "--workspace",
        workspace_id,
        "--scopes",
        scopes,
        database_url=database_url,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    for word in words:
        assert word in said(result)
    assert count(engine, ApiKey) == 1


def test_key_create_for_an_unknown_workspace(database_url: str, engine: Engine) -> None:
    upgrade(engine)
    make_workspace(engine)
    result = run_botbill(
        "key", "create", "--workspace", "ws_nope", "--scopes", "read", database_url=database_url
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "ws_nope" in said(result)
    assert "Traceback" not in result.stderr
    assert count(engine, ApiKey) == 1


# -- migrate -----------------------------------------------------------------------------


def test_migrate_brings_a_new_database_to_head(database_url: str, engine: Engine) -> None:
    for _ in range(2):  # and again: nothing to do, no error
        result = run_botbill("migrate", database_url=database_url)
        assert result.returncode == 0, result.stderr
        assert "head" in said(result)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == head
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
