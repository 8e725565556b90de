"""Console pages: signing in and out, choosing a workspace, accepting an invitation."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from botbill.console.access import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentPerson,
    MaybePerson,
    WorkspaceViewer,
    operator_viewer_of,
    visible_sections,
)
from botbill.console.pages import (
    ConsoleRoute,
    error_page,
    read_form,
    redirect,
    render,
    secure_cookies,
)
from botbill.kit.db import unit_of_work
from botbill.kit.problems import Invalid
from botbill.kit.web import ClockDep, EngineDep
from botbill.people import passwords, rules
from botbill.people import service as people
from botbill.people.invitations import (
    InvitationState,
    accept_invitation,
    invitation_refusal,
    read_invitation,
)
from botbill.people.service import Membership, SignInResult
from botbill.settings import Settings
from botbill.workspaces.schemas import Role

router = APIRouter(route_class=ConsoleRoute)

REFUSED = "That email and password do not match an account. Check both and try again."


def _first_page(membership: Membership, *, is_operator: bool = False) -> str | None:
    sections = visible_sections(
        Role(membership.role), is_operator=is_operator, account_type=membership.account_type
    )
    return f"/console/w/{membership.workspace_id}/{sections[0].value}" if sections else None


def _safe_next(target: str | None) -> str:
    """Only a console path of this site (never ``//elsewhere``)."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


@router.get("/console")
def landing(request: Request, signed_in: MaybePerson) -> Response:
    if signed_in is None:
        return redirect(request, "/console/sign-in")
    person = signed_in.person
    if len(person.memberships) == 1 and not person.is_operator:
        page = _first_page(person.memberships[0])
        if page is None:
            return error_page(
                request,
                operator_viewer_of(signed_in),
                403,
                "Nothing to show",
                "Your role (developer) sees no billing section. Ask an admin if you need one.",
            )
        return redirect(request, page)
    if not person.memberships:
        return redirect(request, "/console/operator")
    return redirect(request, "/console/workspaces")


def _presession(request: Request) -> tuple[str, str | None]:
    """The CSRF token of a signed-out form, and a new pre-session cookie when needed."""
    existing = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    if existing:
        return rules.csrf_token(existing), None
    fresh = rules.new_token()
    return rules.csrf_token(fresh), fresh


def _signed_out_page(
    request: Request, template: str, *, status_code: int = 200, **context: object
) -> Response:
    csrf, fresh = _presession(request)
    response = render(request, template, None, status_code=status_code, csrf_token=csrf, **context)
    if fresh is not None:
        response.set_cookie(
            PRESESSION_COOKIE,
            fresh,
            path="/console",
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
    return response


@router.get("/console/sign-in")
def sign_in_form(request: Request, signed_in: MaybePerson, next: str = "") -> Response:
    if signed_in is not None:
        return redirect(request, _safe_next(next))
    return _signed_out_page(request, "sign_in.html", next=_safe_next(next), email="", error="")


@router.post("/console/sign-in", dependencies=[CsrfChecked])
async def sign_in(request: Request, engine: EngineDep, clock: ClockDep) -> Response:
    form = await read_form(request)
    email, password = form.get("email", ""), form.get("password", "")
    target = _safe_next(form.get("next"))
    client = request.client.host if request.client else "unknown"

    def attempt() -> people.SignIn:
        now = clock.now()
        with unit_of_work(engine, write=False) as session:
            check = people.check_sign_in(session, email=email, client=client, now=now)
        matched = not check.retry_after and passwords.check_password(check.stored_hash, password)
        with unit_of_work(engine, write=True) as session:
            return people.finish_sign_in(
                session, check, password=password, matched=matched, now=now
            )

    outcome = await run_in_threadpool(attempt)
    if outcome.result is SignInResult.THROTTLED:
        minutes = -(-outcome.retry_after // 60)
        response = _signed_out_page(
            request,
            "sign_in.html",
            status_code=429,
            next=target,
            email=email,
            error=f"Too many failed sign-ins. Try again in {minutes} minute"
            + ("s." if minutes != 1 else "."),
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.result is SignInResult.REFUSED or outcome.token is None:
        return _signed_out_page(
            request, "sign_in.html", status_code=401, next=target, email=email, error=REFUSED
        )
    response = redirect(request, target)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/console")
    return response


@router.post("/console/sign-out", dependencies=[CsrfChecked])
def sign_out(request: Request, engine: EngineDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with unit_of_work(engine, write=True) as session:
            people.sign_out(session, token)
    response = redirect(request, "/console/sign-in", notice="You are signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/console/workspaces")
def picker(request: Request, signed_in: CurrentPerson) -> Response:
    person = signed_in.person
    choices = [
        {
            "name": m.workspace_name,
            "role": m.role,
            "enterprise": m.account_type == "enterprise",
            "href": _first_page(m),
        }
        for m in person.memberships
    ]
    return render(request, "picker.html", operator_viewer_of(signed_in), choices=choices)


@router.get("/console/w/{workspace_id}")
def workspace_home(request: Request, viewer: WorkspaceViewer) -> Response:
    if not viewer.sections:
        return error_page(
            request, viewer, 403, "Nothing to show", "Your role sees no billing section here."
        )
    return redirect(request, f"/console/w/{viewer.workspace_id}/{viewer.sections[0].value}")


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key


def _invitation_page(
    request: Request, token: str, engine: EngineDep, now: int, *, error: str = "", status: int = 200
) -> Response:
    with unit_of_work(engine, write=False) as session:
        invitation = read_invitation(session, token, secret=_secret(request), now=now)
        member = invitation.member
        name, email = (member.name, member.email) if member is not None else ("", "")
    return _signed_out_page(
        request,
        "invitation.html",
        status_code=status if invitation.state is InvitationState.OPEN else 410,
        state=invitation.state.value,
        message=invitation_refusal(invitation.state),
        name=name,
        email=email,
        error=error,
        min_length=passwords.MIN_LENGTH,
    )


@router.get("/console/invitation/{token}")
def invitation(request: Request, token: str, engine: EngineDep, clock: ClockDep) -> Response:
    return _invitation_page(request, token, engine, clock.now())


@router.post("/console/invitation/{token}", dependencies=[CsrfChecked])
async def set_password(
    request: Request, token: str, engine: EngineDep, clock: ClockDep
) -> Response:
    form = await read_form(request)
    password = form.get("password", "")
    now = clock.now()
    problem = passwords.password_problem(password)
    if problem is None and password != form.get("confirm", ""):
        problem = "the two passwords differ"
    if problem is not None:
        return _invitation_page(
            request, token, engine, now, error=problem.capitalize() + ".", status=422
        )

    def accept() -> None:
        with unit_of_work(engine, write=True) as session:
            accept_invitation(session, token, password, secret=_secret(request), now=now)

    try:
        await run_in_threadpool(accept)
    except Invalid:
        return _invitation_page(request, token, engine, now)
    return redirect(request, "/console/sign-in", notice="Your password is set. Sign in with it.")
