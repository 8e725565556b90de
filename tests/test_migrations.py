"""The migrations and the models agree, and the migrations run both ways."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from botbill.kit.db import build_engine
from botbill.migrations import alembic_config, upgrade
from botbill.models import metadata


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    """What ``alembic revision --autogenerate`` would write is nothing: no drift."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_migrated_database_is_at_the_single_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert tuple(current) == tuple(heads)


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'botbill.db'}")
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables

        command.downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert connection.execute(text("SELECT count(*) FROM workspaces")).scalar() == 0
    finally:
        engine.dispose()


def test_each_revision_steps_down_and_up(tmp_path: Path) -> None:
    """Every migration's downgrade undoes its upgrade, one step at a time."""
    engine = build_engine(f"sqlite:///{tmp_path / 'botbill.db'}")
    config = alembic_config(engine)
    revisions = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    try:
        for revision in revisions:
            command.upgrade(config, revision.revision)
            before = set(inspect(engine).get_table_names())
            command.downgrade(config, "-1")
            command.upgrade(config, revision.revision)
            assert set(inspect(engine).get_table_names()) == before
    finally:
        engine.dispose()


def test_running_balances_start_from_the_ledger(tmp_path: Path) -> None:
    """A database with a ledger before running balances gets each app's sum on upgrade."""
    engine = build_engine(f"sqlite:///{tmp_path / 'botbill.db'}")
    config = alembic_config(engine)
    try:
        command.upgrade(config, "5bb7e69ee69a")  # the revision before running balances
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO workspaces (id, name, timezone, currency, account_type, "
                    "created_at) VALUES ('ws_1', 'Acme', 'UTC', 'USD', 'self-serve', "
                    "'2026-11-26 12:00:00')"
                )
            )
            for app in ("a", "b"):
                connection.execute(
                    text(
                        "INSERT INTO apps (workspace_id, id, name, idle_timeout_minutes, plan, "
                        "created_at) VALUES ('ws_1', :app, :app, 15, 'standard', "
                        "'2026-11-26 12:00:00')"
                    ),
                    {"app": app},
                )
            for app, amount in (("a", 25_000), ("a", -140), ("a", 20), ("b", 10_000)):
                connection.execute(
                    text(
                        "INSERT INTO ledger_entries (workspace_id, app_id, at, kind, amount, "
                        "currency) VALUES ('ws_1', :app, 0, 'funds', :amount, 'USD')"
                    ),
                    {"app": app, "amount": amount},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT app_id, amount, entries FROM balances ORDER BY app_id")
            ).all()
        assert [tuple(row) for row in rows] == [("a", 24_880, 3), ("b", 10_000, 1)]
    finally:
        engine.dispose()


def test_rollups_and_seat_presence_are_clustered_on_sqlite_and_keep_their_rows(
    tmp_path: Path,
) -> None:
    """The WITHOUT ROWID rebuild keeps every row, and its downgrade gives rowid tables back."""
    engine = build_engine(f"sqlite:///{tmp_path / 'botbill.db'}")
    config = alembic_config(engine)
    rows = {
        "seat_presence": "('ws_1', 7, x'05'), ('ws_1', 8, x'01')",
        "usage_rollups": "('ws_1', 'a', 7, 3, 1, 0), ('ws_1', 'b', 7, 1, 0, 2)",
        "workspace_usage_rollups": "('ws_1', 7, 4, 1, 2)",
    }

    def clustered() -> dict[str, bool]:
        with engine.connect() as connection:
            return {
                name: "WITHOUT ROWID"
                in connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name}
                ).scalar_one()
                for name in rows
            }

    def contents() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as connection:
            return {
                name: sorted(
                    tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}"))
                )
                for name in rows
            }

    try:
        command.upgrade(config, "4a8f35c5ff3c")  # the revision before the rebuild
        with engine.begin() as connection:
            for name, values in rows.items():
                connection.execute(text(f"INSERT INTO {name} VALUES {values}"))
        before = contents()
        assert clustered() == dict.fromkeys(rows, False)

        command.upgrade(config, "b21bb0b1a3d1")
        assert clustered() == dict.fromkeys(rows, True)
        assert contents() == before

        command.downgrade(config, "-1")
        assert clustered() == dict.fromkeys(rows, False)
        assert contents() == before
    finally:
        engine.dispose()
