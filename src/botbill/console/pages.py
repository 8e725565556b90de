"""Rendering console pages: one Jinja2 environment, the page answers, notices, forms.

A dependency or handler ends a request with a page (a redirect to sign in, a 403 page) by
raising :class:`ConsoleExit`: every console router is ``APIRouter(route_class=ConsoleRoute)``,
whose routes answer it with its response.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.timezones import zone
from botbill.settings import Settings

if TYPE_CHECKING:
    from botbill.console.access import Viewer

TEMPLATES_DIR = Path(__file__).parent / "templates"
NOTICE_COOKIE = "botbill_notice"
MAX_FORM_BYTES = 64 * 1024

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Invitation tokens travel in URLs: never hand a console URL to another site.
    "Referrer-Policy": "same-origin",
    # Scripts only from /console/static (no inline <script>); styles may be inline
    # (SVG charts set them per element).
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def format_money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def local_time(
    moment: datetime | Micros | str | None, timezone: str, pattern: str = "%Y-%m-%d %H:%M"
) -> str:
    """An instant (a datetime, µs, or RFC 3339 text) on the workspace's wall clock (empty
    for ``None``)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        instant = datetime.fromisoformat(moment)
    else:
        instant = from_micros(moment) if isinstance(moment, int) else moment
    return instant.astimezone(zone(timezone)).strftime(pattern)


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["money"] = format_money
ENV.globals["local_time"] = local_time


class ConsoleExit(Exception):
    """Ends a console request with this response (raised from dependencies)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ConsoleRoute(APIRoute):
    """The console's route class: a :class:`ConsoleExit` becomes its response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ConsoleExit as done:
                return done.response

        return handle


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure_cookies(request: Request) -> bool:
    """Cookies are ``Secure`` in production (served over HTTPS there)."""
    return _settings(request).environment == "production"


def with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def render(
    request: Request,
    template_name: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page of ``templates/``. ``base.html`` shows the menu of ``viewer`` (none when
    signed out), and the notice left by :func:`redirect` or passed as ``notice=``."""
    notice = context.pop("notice", None) or _notice_of(request)
    html = ENV.get_template(template_name).render(
        request=request,
        viewer=viewer,
        notice=notice,
        csrf_token=context.pop("csrf_token", viewer.csrf_token if viewer else ""),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if NOTICE_COOKIE in request.cookies:
        response.delete_cookie(NOTICE_COOKIE, path="/console")
    with_headers(response)
    return response


def redirect(
    request: Request, url: str, *, notice: str | None = None, error: bool = False
) -> RedirectResponse:
    """303 to ``url`` (after a POST), with a notice the next page shows once."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        kind = "error" if error else "success"
        response.set_cookie(
            NOTICE_COOKIE,
            quote(f"{kind}|{notice}"),
            max_age=60,
            path="/console",
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
    with_headers(response)
    return response


def _notice_of(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw).partition("|")
    return {"kind": "error" if kind == "error" else "success", "text": text[:500]}


def error_page(
    request: Request, viewer: Viewer | None, status_code: int, title: str, message: str
) -> HTMLResponse:
    return render(
        request, "error.html", viewer, status_code=status_code, title=title, message=message
    )


async def read_form(request: Request) -> Mapping[str, str]:
    """The fields of a URL-encoded form (the console's forms post no files). Read once
    per request; later calls (the CSRF check, then the handler) get the same fields."""
    cached: Mapping[str, str] | None = getattr(request.state, "console_form", None)
    if cached is not None:
        return cached
    fields: dict[str, str] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise ConsoleExit(error_page(request, None, 413, "Too large", "The form is too large."))
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            fields.setdefault(name, value.replace("\x00", ""))
    request.state.console_form = fields
    return fields
