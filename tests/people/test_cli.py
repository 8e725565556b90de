"""``botbill user password`` and ``botbill operator user create``: passwords from stdin."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from botbill.audit.models import AuditEntry
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.people.models import ConsoleSession, Operator
from botbill.people.passwords import check_password
from botbill.people.service import open_session, password_hash_of
from tests.factories import T0, add_member, make_workspace, run_botbill


def _hash(engine: Engine, email: str) -> str | None:
    with unit_of_work(engine, write=False) as session:
        return password_hash_of(session, email)


def test_user_password_sets_the_password_of_every_membership_and_signs_out(
    db: Engine, database_url: str
) -> None:
    acme, _ = make_workspace(db, name="Acme")
    globex, _ = make_workspace(db, name="Globex")
    for workspace_id in (acme, globex):
        add_member(db, workspace_id=workspace_id, email="ann@acme.example", role="admin")
    with unit_of_work(db, write=True) as session:
        open_session(session, email="ann@acme.example", now=to_micros(T0))

    result = run_botbill(
        "user", "password", "Ann@Acme.example", database_url=database_url, stdin="s3cret words!\n"
    )
    assert result.returncode == 0, result.stderr
    assert "password set for ann@acme.example" in result.stdout
    stored = _hash(db, "ann@acme.example")
    assert stored is not None
    assert check_password(stored, "s3cret words!")
    with unit_of_work(db, write=False) as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 0
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.password_set")
        ).all()
    assert sorted(e.workspace_id or "" for e in entries) == sorted([acme, globex])
    assert {e.actor_kind for e in entries} == {"cli"}


def test_user_password_refuses_an_unknown_email_or_a_short_password(
    db: Engine, database_url: str
) -> None:
    acme, _ = make_workspace(db, name="Acme")
    add_member(db, workspace_id=acme, email="ann@acme.example", role="admin")
    unknown = run_botbill(
        "user", "password", "bob@acme.example", database_url=database_url, stdin="long enough pw\n"
    )
    assert unknown.returncode == 2
    assert "neither a member" in unknown.stderr
    short = run_botbill(
        "user", "password", "ann@acme.example", database_url=database_url, stdin="short\n"
    )
    assert short.returncode == 2
    assert "at least 10 characters" in short.stderr
    assert _hash(db, "ann@acme.example") is None


def test_operator_user_create_makes_an_operator_who_signs_in_with_that_password(
    db: Engine, database_url: str
) -> None:
    result = run_botbill(
        "operator",
        "user",
        "create",
        "ops@platform.example",
        "--name",
        "Olive Ops",
        database_url=database_url,
        stdin="operator password\n",
    )
    assert result.returncode == 0, result.stderr
    with unit_of_work(db, write=False) as session:
        operator = session.scalars(select(Operator)).one()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "operator.person_created")
        ).one()
    assert (operator.email, operator.name) == ("ops@platform.example", "Olive Ops")
    assert entry.workspace_id is None
    stored = _hash(db, "ops@platform.example")
    assert stored is not None
    assert check_password(stored, "operator password")

    again = run_botbill(
        "operator",
        "user",
        "create",
        "ops@platform.example",
        database_url=database_url,
        stdin="another password\n",
    )
    assert again.returncode == 2
    assert "already an operator" in again.stderr
    assert check_password(_hash(db, "ops@platform.example") or "", "operator password")
