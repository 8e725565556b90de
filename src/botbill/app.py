"""The FastAPI application: routers, error rendering, and the lifespan's engine and jobs."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from botbill import __version__
from botbill.api_keys.routes import router as api_keys_router
from botbill.apps.routes import router as apps_router
from botbill.audit.routes import router as audit_router
from botbill.auth.dependencies import authenticate, authenticate_operator
from botbill.compat.routes import router as compat_router
from botbill.console.routes import STATIC_DIR as CONSOLE_STATIC_DIR
from botbill.console.routes import router as console_router
from botbill.engine.worker import Worker
from botbill.extensions.routes import router as extensions_router
from botbill.ingest.routes import router as ingest_router
from botbill.invoicing.routes import router as invoicing_router
from botbill.kit.clock import Clock, SystemClock
from botbill.kit.db import build_engine
from botbill.kit.openapi import BearerScheme, platform_errors
from botbill.kit.openapi import install as install_openapi
from botbill.kit.problems import PROBLEM_CONTENT_TYPE, FieldError, Invalid, Problem, Unauthorized
from botbill.migrations import upgrade
from botbill.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS
from botbill.ops.routes import router as ops_router
from botbill.orders.routes import router as orders_router
from botbill.plans.routes import router as plans_router
from botbill.settings import Settings, get_settings
from botbill.subscriptions.routes import router as subscriptions_router
from botbill.usage.routes import router as usage_router
from botbill.wallet.routes import router as wallet_router
from botbill.webhooks.routes import router as webhooks_router
from botbill.workspaces.routes import router as members_router

log = logging.getLogger("botbill.http")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings.database_url)
        if settings.migrate_on_start:
            upgrade(engine)
        app.state.engine = engine
        worker = Worker(engine, clock, settings) if settings.jobs_enabled else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            engine.dispose()

    app = FastAPI(
        title="botbill",
        version=__version__,
        summary="Usage metering and billing for conversational-AI platforms.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    for router in (
        ops_router,
        ingest_router,
        apps_router,
        members_router,
        usage_router,
        plans_router,
        subscriptions_router,
        wallet_router,
        orders_router,
        invoicing_router,
        extensions_router,
        audit_router,
        api_keys_router,
        webhooks_router,
        compat_router,
        console_router,
    ):
        app.include_router(router)
    _install_static_pages(app)
    _install_error_handlers(app)
    install_openapi(
        app,
        authenticated={
            authenticate: BearerScheme("ApiKey", "A workspace API key: ingest, read or admin"),
            authenticate_operator: BearerScheme("OperatorKey", "A platform operator's key"),
        },
        foreign=(platform_errors("/api/public/"),),
    )
    app.add_middleware(CredentialsBeforeBody)
    app.add_middleware(RequestMetrics)
    return app


def _install_static_pages(app: FastAPI) -> None:
    """The console's assets and the API docs' Swagger UI, both served from the installed
    packages: nothing is loaded from a CDN, so both work with no internet."""
    app.mount("/console/static", StaticFiles(directory=CONSOLE_STATIC_DIR), name="console-static")
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="botbill API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.as_json(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers or None,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, error: Problem) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [FieldError(e["loc"], e["msg"]) for e in error.errors()]
        summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
        return problem_response(Invalid(summary, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(str(error.detail))
        problem.status = error.status_code
        problem.slug = {404: "not-found", 405: "method-not-allowed"}.get(
            error.status_code, "http-error"
        )
        problem.title = str(error.detail)
        return JSONResponse(
            jsonable_encoder(problem.as_json()),
            status_code=error.status_code,
            media_type=PROBLEM_CONTENT_TYPE,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(Problem("an unexpected error occurred; it has been logged"))


class CredentialsBeforeBody:
    """A ``/v1/`` request's body is read only once its key is known to be live.

    FastAPI reads and parses a JSON body before it runs any dependency, so a route's own
    key check comes too late to spare the server an anonymous caller's body, or to keep
    that caller from learning how its body was wrong (API.md: 401 for no credentials).
    A request without a live workspace or operator key goes on to its route with an
    empty body: the route's key check answers 401 in its own words (an unknown path
    still 404), and the body is never read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/v1/")
            and not await _has_live_key(Request(scope))
        ):
            receive = _without_body(receive)
        await self.app(scope, receive, send)


async def _has_live_key(request: Request) -> bool:
    engine = request.app.state.engine
    try:
        await authenticate(request, engine)
    except Unauthorized:
        try:
            await run_in_threadpool(authenticate_operator, request, engine)
        except Problem:
            return False
    return True


def _without_body(receive: Receive) -> Receive:
    """An empty body in place of the one sent; after it, only the connection's news
    (a disconnect), with any body that still arrives dropped unread."""
    given = False

    async def receive_no_body() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message

    return receive_no_body


class RequestMetrics:
    """Counts, times and logs every request (a plain ASGI middleware: no extra task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = time.perf_counter() - started
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(path).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": path,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )
