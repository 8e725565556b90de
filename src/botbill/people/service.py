"""Signing in and out, console sessions, passwords and operators. Services flush; the
caller commits.

A password belongs to the email, not to each membership: every ``members`` row of the
email and its ``operators`` row carry the same hash, written together here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, Invalid
from botbill.people import passwords, rules
from botbill.people.models import ConsoleSession, Operator, SignInFailure
from botbill.workspaces.models import Member, Workspace


@dataclass(frozen=True, slots=True)
class Membership:
    workspace_id: str
    workspace_name: str
    account_type: str
    member_id: str
    role: str
    name: str


@dataclass(frozen=True, slots=True)
class Person:
    """Who a console session belongs to, as of this request."""

    session_id: str
    email: str
    name: str
    operator_id: str | None
    memberships: tuple[Membership, ...]

    @property
    def is_operator(self) -> bool:
        return self.operator_id is not None

    def membership(self, workspace_id: str) -> Membership | None:
        return next((m for m in self.memberships if m.workspace_id == workspace_id), None)


class SignInResult(StrEnum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in attempt came to. A refusal is an answer, not an exception, so that
    its failure row commits with the unit of work."""

    result: SignInResult
    token: str | None = None
    retry_after: int = 0


def normalize_email(email: str) -> str:
    return email.strip().lower().replace("\x00", "")


def memberships(session: Session, email: str) -> tuple[Membership, ...]:
    rows = session.execute(
        select(Member, Workspace)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(Member.email == email)
        .order_by(Workspace.name, Workspace.id)
    )
    return tuple(
        Membership(
            workspace_id=workspace.id,
            workspace_name=workspace.name,
            account_type=workspace.account_type,
            member_id=member.id,
            role=member.role,
            name=member.name,
        )
        for member, workspace in rows
    )


def find_operator(session: Session, email: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.email == email)).one_or_none()


def password_hash_of(session: Session, email: str) -> str | None:
    """The email's password hash (the same on all its rows), or ``None``."""
    operator = find_operator(session, email)
    if operator is not None and operator.password_hash is not None:
        return operator.password_hash
    return session.scalars(
        select(Member.password_hash)
        .where(Member.email == email, Member.password_hash.is_not(None))
        .limit(1)
    ).first()


@dataclass(frozen=True, slots=True)
class SignInCheck:
    """What a sign-in needs to know before the password is checked (a read)."""

    email: str
    client: str
    stored_hash: str | None
    retry_after: int
    """Seconds until the pair may try again; 0 when it is not locked."""


def check_sign_in(session: Session, *, email: str, client: str, now: Micros) -> SignInCheck:
    """Whether the (email, client address) pair is locked, and the email's hash. The
    Argon2 check comes after this read and before :func:`finish_sign_in`, so no write
    lock is held while it runs (SQLite has one writer at a time)."""
    email, client = normalize_email(email)[:254], client[:64]
    failures = session.scalars(
        select(SignInFailure.at).where(
            SignInFailure.email == email,
            SignInFailure.client == client,
            SignInFailure.at >= rules.failures_worth_keeping(now),
        )
    ).all()
    until = rules.locked_until(failures, now)
    return SignInCheck(
        email=email,
        client=client,
        stored_hash=password_hash_of(session, email) if until is None else None,
        retry_after=0 if until is None else rules.retry_after_seconds(until, now),
    )


def finish_sign_in(
    session: Session, check: SignInCheck, *, password: str, matched: bool, now: Micros
) -> SignIn:
    """Record a failure, or open a session (forgetting the pair's failures).

    Unknown email, no password yet and a wrong password are one and the same refusal,
    after the same Argon2 work (``passwords.check_password``).
    """
    email, client = check.email, check.client
    if check.retry_after:
        return SignIn(SignInResult.THROTTLED, retry_after=check.retry_after)
    if not matched or check.stored_hash is None:
        session.execute(
            delete(SignInFailure).where(
                SignInFailure.email == email,
                SignInFailure.client == client,
                SignInFailure.at < rules.failures_worth_keeping(now),
            )
        )
        session.add(SignInFailure(email=email, client=client, at=now))
        session.flush()
        return SignIn(SignInResult.REFUSED)
    session.execute(
        delete(SignInFailure).where(SignInFailure.email == email, SignInFailure.client == client)
    )
    if passwords.needs_rehash(check.stored_hash):
        _store_hash(session, email, passwords.hash_password(password))
    return SignIn(SignInResult.SIGNED_IN, token=open_session(session, email=email, now=now))


def open_session(session: Session, *, email: str, now: Micros) -> str:
    """A new console session for ``email``; returns its token (the cookie's value). The
    email's idle-expired sessions go at the same time."""
    session.execute(
        delete(ConsoleSession).where(
            ConsoleSession.email == email,
            ConsoleSession.last_seen_at <= now - rules.IDLE_TIMEOUT,
        )
    )
    token = rules.new_token()
    session.add(
        ConsoleSession(
            id=new_id("ses"),
            token_hash=rules.token_hash(token),
            email=email,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def find_session(session: Session, token: str, now: Micros) -> ConsoleSession | None:
    """The live session of a token (``None`` when unknown, ended or idle-expired)."""
    row = session.scalars(
        select(ConsoleSession).where(ConsoleSession.token_hash == rules.token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    if rules.session_expired(row.last_seen_at, now):
        return None
    return row


def touch(session: Session, session_id: str, now: Micros) -> None:
    session.execute(
        update(ConsoleSession).where(ConsoleSession.id == session_id).values(last_seen_at=now)
    )


def person_of(session: Session, row: ConsoleSession) -> Person | None:
    """Who a live session belongs to now; ``None`` if they are neither member nor operator
    any more (removed since they signed in)."""
    operator = find_operator(session, row.email)
    joined = memberships(session, row.email)
    if operator is None and not joined:
        return None
    name = operator.name if operator is not None else joined[0].name
    return Person(
        session_id=row.id,
        email=row.email,
        name=name,
        operator_id=operator.id if operator is not None else None,
        memberships=joined,
    )


def sign_out(session: Session, token: str) -> None:
    session.execute(
        delete(ConsoleSession).where(ConsoleSession.token_hash == rules.token_hash(token))
    )


def _store_hash(session: Session, email: str, password_hash: str) -> None:
    session.execute(update(Member).where(Member.email == email).values(password_hash=password_hash))
    session.execute(
        update(Operator).where(Operator.email == email).values(password_hash=password_hash)
    )


def _check_new_password(password: str) -> None:
    problem = passwords.password_problem(password)
    if problem is not None:
        raise Invalid.at(["password"], problem)


def set_password(session: Session, email: str, password: str, *, actor: Actor, now: Micros) -> None:
    """Set the email's password on all its memberships and its operator row, and end all
    its console sessions at once. One audit entry per workspace it belongs to (and one
    platform-wide entry for an operator)."""
    email = normalize_email(email)
    _check_new_password(password)
    joined = memberships(session, email)
    operator = find_operator(session, email)
    if not joined and operator is None:
        raise Invalid.at(["email"], f"{email!r} is neither a member of a workspace nor an operator")
    _store_hash(session, email, passwords.hash_password(password))
    session.execute(delete(ConsoleSession).where(ConsoleSession.email == email))
    for workspace_id in sorted({m.workspace_id for m in joined}) + (
        [None] if operator is not None else []
    ):
        record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action=Action.PASSWORD_SET,
            target=target("person", email),
            before=None,
            after={"email": email},
            now=now,
        )
    session.flush()


def create_operator(
    session: Session, email: str, *, name: str, password: str, actor: Actor, now: Micros
) -> Operator:
    """A platform operator who signs in to the console. An email that already has a
    password (as a member) keeps one password: this one, for all its rows."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid.at(["email"], "not an email address")
    _check_new_password(password)
    if find_operator(session, email) is not None:
        raise Conflict(f"{email!r} is already an operator")
    operator = Operator(
        id=new_id("opr"), email=email, name=name.strip() or email, created_at=from_micros(now)
    )
    session.add(operator)
    session.flush()
    _store_hash(session, email, passwords.hash_password(password))
    session.execute(delete(ConsoleSession).where(ConsoleSession.email == email))
    record(
        session,
        workspace_id=None,
        actor=actor,
        action=Action.OPERATOR_PERSON_CREATED,
        target=target("person", email),
        before=None,
        after={"email": email, "name": operator.name},
        now=now,
    )
    return operator
