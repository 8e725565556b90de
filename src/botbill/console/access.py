"""Who is looking at a console page, and what they may see and do (SPEC §6).

Each section's dependency answers with a :class:`Viewer` or ends the request: not signed
in → to the sign-in page; another workspace → 404 (never say whose); a section the role
may not see → 403. Every state-changing request passes :func:`check_csrf`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from botbill.audit.service import Actor
from botbill.console.pages import ConsoleExit, error_page, read_form, with_headers
from botbill.kit.db import unit_of_work
from botbill.kit.web import ClockDep, EngineDep
from botbill.people import rules
from botbill.people import service as people
from botbill.people.service import Person
from botbill.workspaces.models import AccountType, Workspace
from botbill.workspaces.schemas import Role

SESSION_COOKIE = "botbill_session"
PRESESSION_COOKIE = "botbill_presession"
"""Signed-out forms (sign-in, invitation) take their CSRF token from this cookie."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class Section(StrEnum):
    """The billing sections; the value is the URL segment under ``/console/w/{id}/``."""

    BILLING_SESSIONS = "billing-sessions"
    ORDERS = "orders"
    PLAN = "plan"
    USAGE = "usage"

    @property
    def label(self) -> str:
        """The menu's name of the section."""
        return _LABELS[self]


_LABELS = {
    Section.BILLING_SESSIONS: "Billing Sessions",
    Section.ORDERS: "Orders & Invoices",
    Section.PLAN: "Plan",
    Section.USAGE: "Usage",
}

_ROLE_SECTIONS = {
    Role.OWNER: tuple(Section),
    Role.ADMIN: tuple(Section),
    Role.SHARED: (Section.BILLING_SESSIONS, Section.ORDERS),
    Role.DEVELOPER: (),
}


def visible_sections(
    role: Role | None, *, is_operator: bool, account_type: str
) -> tuple[Section, ...]:
    """The sections a person sees in a workspace, in menu order (SPEC §6; Orders &
    Invoices never for an Enterprise workspace)."""
    sections = tuple(Section) if is_operator else _ROLE_SECTIONS.get(role, ()) if role else ()
    if account_type == AccountType.ENTERPRISE.value:
        sections = tuple(s for s in sections if s is not Section.ORDERS)
    return sections


def may_manage(role: Role | None, *, is_operator: bool) -> bool:
    """Change plan, add funds, extensions, owner: owners, admins and operators."""
    return is_operator or role in (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class WorkspaceChoice:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person on one page. On operator pages (no workspace) the workspace
    fields are empty strings and ``sections`` is empty; ``in_workspace`` says which."""

    session_id: str
    email: str
    name: str
    is_operator: bool
    role: Role | None
    """The person's role in this workspace; ``None`` for an operator who is no member."""
    member_id: str | None
    workspace_id: str
    workspace_name: str
    account_type: str
    timezone: str
    currency: str
    csrf_token: str
    actor: Actor
    """Audit entries name the person: the member (or the operator, outside their own
    workspaces)."""
    may_manage: bool
    sections: tuple[Section, ...]
    workspaces: tuple[WorkspaceChoice, ...]
    """The person's own workspaces, for the switcher."""

    @property
    def in_workspace(self) -> bool:
        return bool(self.workspace_id)

    def may_see(self, section: Section) -> bool:
        return section in self.sections


@dataclass(frozen=True, slots=True)
class SignedIn:
    person: Person
    token: str

    @property
    def csrf_token(self) -> str:
        return rules.csrf_token(self.token)


def _resume(
    request: Request, engine: Engine, now: int, workspace_id: str | None
) -> tuple[SignedIn | None, Workspace | None]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return None, None
    with unit_of_work(engine, write=False) as session:
        row = people.find_session(session, token, now)
        person = people.person_of(session, row) if row is not None else None
        workspace = (
            session.get(Workspace, workspace_id)
            if person is not None and workspace_id and "\x00" not in workspace_id
            else None
        )
        stale = row is not None and rules.should_touch(row.last_seen_at, now)
    if person is None:
        return None, None
    if stale:
        with unit_of_work(engine, write=True) as session:
            people.touch(session, person.session_id, now)
    return SignedIn(person, token), workspace


def sign_in_redirect(request: Request) -> ConsoleExit:
    """To the sign-in page, which comes back here (a form posted with an ended session
    comes back to the console's start: its page may be gone)."""
    target = request.url.path if request.method == "GET" else "/console"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    url = f"/console/sign-in?next={quote(target, safe='/')}"
    return ConsoleExit(with_headers(RedirectResponse(url, status_code=303)))


def current_person(request: Request, engine: EngineDep, clock: ClockDep) -> SignedIn:
    """The signed-in person (pages outside a workspace: the picker); else to sign in."""
    signed_in, _ = _resume(request, engine, clock.now(), None)
    if signed_in is None:
        raise sign_in_redirect(request)
    return signed_in


def optional_person(request: Request, engine: EngineDep, clock: ClockDep) -> SignedIn | None:
    signed_in, _ = _resume(request, engine, clock.now(), None)
    return signed_in


def _choices(person: Person) -> tuple[WorkspaceChoice, ...]:
    return tuple(WorkspaceChoice(m.workspace_id, m.workspace_name) for m in person.memberships)


def _workspace_viewer(request: Request, engine: Engine, now: int, workspace_id: str) -> Viewer:
    signed_in, workspace = _resume(request, engine, now, workspace_id)
    if signed_in is None:
        raise sign_in_redirect(request)
    person = signed_in.person
    membership = person.membership(workspace_id)
    if workspace is None or (membership is None and not person.is_operator):
        raise ConsoleExit(
            error_page(
                request,
                operator_viewer_of(signed_in),
                404,
                "Not found",
                "There is no such workspace, or you are not one of its members.",
            )
        )
    role = Role(membership.role) if membership is not None else None
    actor_id = membership.member_id if membership is not None else person.operator_id
    assert actor_id is not None
    return Viewer(
        session_id=person.session_id,
        email=person.email,
        name=membership.name if membership is not None else person.name,
        is_operator=person.is_operator,
        role=role,
        member_id=membership.member_id if membership is not None else None,
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        account_type=workspace.account_type,
        timezone=workspace.timezone,
        currency=workspace.currency,
        csrf_token=signed_in.csrf_token,
        actor=Actor.person(actor_id),
        may_manage=may_manage(role, is_operator=person.is_operator),
        sections=visible_sections(
            role, is_operator=person.is_operator, account_type=workspace.account_type
        ),
        workspaces=_choices(person),
    )


def operator_viewer_of(signed_in: SignedIn) -> Viewer:
    """A viewer outside any workspace (operator pages, the picker, error pages)."""
    person = signed_in.person
    return Viewer(
        session_id=person.session_id,
        email=person.email,
        name=person.name,
        is_operator=person.is_operator,
        role=None,
        member_id=None,
        workspace_id="",
        workspace_name="",
        account_type="",
        timezone="UTC",
        currency="USD",
        csrf_token=signed_in.csrf_token,
        actor=Actor.person(person.operator_id or person.session_id),
        may_manage=person.is_operator,
        sections=(),
        workspaces=_choices(person),
    )


def workspace_viewer(
    workspace_id: str, request: Request, engine: EngineDep, clock: ClockDep
) -> Viewer:
    """Anyone of the workspace (or an operator), whatever they may see in it."""
    return _workspace_viewer(request, engine, clock.now(), workspace_id)


def _forbidden(request: Request, viewer: Viewer, message: str) -> ConsoleExit:
    return ConsoleExit(error_page(request, viewer, 403, "Not allowed", message))


def section_viewer(section: Section) -> Callable[..., Viewer]:
    def dependency(
        workspace_id: str, request: Request, engine: EngineDep, clock: ClockDep
    ) -> Viewer:
        viewer = _workspace_viewer(request, engine, clock.now(), workspace_id)
        if not viewer.may_see(section):
            if section is Section.ORDERS and viewer.account_type == AccountType.ENTERPRISE.value:
                raise _forbidden(
                    request, viewer, "Orders & Invoices are not available to Enterprise workspaces."
                )
            role = viewer.role.value if viewer.role else "no role"
            raise _forbidden(request, viewer, f"Your role ({role}) may not see {section.label}.")
        return viewer

    return dependency


def manager_viewer(
    workspace_id: str, request: Request, engine: EngineDep, clock: ClockDep
) -> Viewer:
    viewer = _workspace_viewer(request, engine, clock.now(), workspace_id)
    if not viewer.may_manage:
        raise _forbidden(request, viewer, "Only owners and admins may manage billing.")
    return viewer


def operator_viewer(request: Request, engine: EngineDep, clock: ClockDep) -> Viewer:
    signed_in, _ = _resume(request, engine, clock.now(), None)
    if signed_in is None:
        raise sign_in_redirect(request)
    viewer = operator_viewer_of(signed_in)
    if not viewer.is_operator:
        raise _forbidden(request, viewer, "These pages are for platform operators.")
    return viewer


async def check_csrf(request: Request) -> None:
    """Refuse (403, nothing done) a state-changing request without the CSRF token of its
    session — or, signed out, of its pre-session cookie — in the form field
    ``csrf_token`` or the ``X-CSRF-Token`` header."""
    token = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        given = (await read_form(request)).get(CSRF_FIELD)
    if not token or not given or not rules.same_secret(given, rules.csrf_token(token)):
        raise ConsoleExit(
            error_page(
                request,
                None,
                403,
                "Form expired",
                "This form was not accepted (its security token is missing or out of date). "
                "Go back, reload the page and try again.",
            )
        )


BillingSessionsViewer = Annotated[Viewer, Depends(section_viewer(Section.BILLING_SESSIONS))]
OrdersViewer = Annotated[Viewer, Depends(section_viewer(Section.ORDERS))]
PlanViewer = Annotated[Viewer, Depends(section_viewer(Section.PLAN))]
UsageViewer = Annotated[Viewer, Depends(section_viewer(Section.USAGE))]
WorkspaceViewer = Annotated[Viewer, Depends(workspace_viewer)]
ManageViewer = Annotated[Viewer, Depends(manager_viewer)]
OperatorViewer = Annotated[Viewer, Depends(operator_viewer)]
CurrentPerson = Annotated[SignedIn, Depends(current_person)]
MaybePerson = Annotated[SignedIn | None, Depends(optional_person)]
CsrfChecked = Depends(check_csrf)
"""Use as ``dependencies=[CsrfChecked]`` on every POST of the console."""
