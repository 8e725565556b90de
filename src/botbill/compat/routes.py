"""HTTP routes of the compat package: the platform's public billing API (SPEC §9), and
``/v1/api-clients``.

Each route reads its body and headers itself, so that every refusal is in the platform's
shape (never problem+json); the work runs in a thread, as sync routes do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from botbill.compat import clients, queries, service
from botbill.compat.client_routes import router as api_clients_router
from botbill.compat.clients import ClientCaller, ClientScope
from botbill.compat.errors import PlatformError, bad_request
from botbill.compat.tokens import token_of
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders.web import SettingsDep
from botbill.usage.service import settled_read

router = APIRouter()
router.include_router(api_clients_router)
public = APIRouter(prefix="/api/public", tags=["platform compatibility"])


async def _answer(
    request: Request,
    engine: Engine,
    secret_key: str,
    clock: Clock,
    work: Callable[[ClientCaller, Any], Any],
) -> Response:
    """Authenticate the caller (counting the request), then do the work; any refusal in
    the platform's error shape. Answers are serialized by orjson: a summary grouped by
    bot over 90 days holds tens of thousands of periods."""
    try:
        token = token_of(dict(request.headers))
        raw = await request.body() if request.method == "POST" else None
        caller = await run_in_threadpool(_authenticate, engine, clock, token, secret_key)
        body = None if raw is None else _json(raw)
        answer = await run_in_threadpool(work, caller, body)
        return Response(orjson.dumps(answer), media_type="application/json")
    except PlatformError as error:
        return JSONResponse(error.as_json(), status_code=error.status)


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise bad_request("the request body is not valid JSON") from None


def _authenticate(engine: Engine, clock: Clock, token: str, secret_key: str) -> ClientCaller:
    with unit_of_work(engine, write=True) as session:
        if engine.dialect.name == "postgresql":
            # This unit only counts the request: a count lost in a crash is harmless, so
            # it need not wait for its commit to reach the disk.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        return clients.authenticate(
            session,
            token=token,
            secret_key=secret_key,
            scope=ClientScope.BILLING_SESSIONS_READ,
            now=clock.now(),
        )


# --- billing sessions ------------------------------------------------------------------


def _sessions(engine: Engine, clock: Clock, path_bot: str | None) -> Callable[..., Any]:
    def work(caller: ClientCaller, body: Any) -> Any:
        query = queries.sessions_query(body)
        bot = path_bot or query.bot_id
        with settled_read(engine, clock, workspace_id=caller.workspace_id) as (session, _):
            if bot is not None:
                service.check_bots(session, workspace_id=caller.workspace_id, bot_ids=[bot])
            return service.billing_sessions(
                session, workspace_id=caller.workspace_id, bot_id=bot, query=query
            )

    return work


@public.post("/bot/{bot_id}/getBillingSessionsDetails")
async def bot_billing_sessions(
    bot_id: str, request: Request, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """One bot's completed billing sessions (the platform's Billing Sessions API)."""
    work = _sessions(engine, clock, bot_id)
    return await _answer(request, engine, settings.secret_key, clock, work)


@public.post("/bots/getBillingSessionsDetails")
@public.post("/getBillingSessionsDetails")
async def account_billing_sessions(
    request: Request, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """The workspace's completed billing sessions, or one bot's with ``botId``."""
    work = _sessions(engine, clock, None)
    return await _answer(request, engine, settings.secret_key, clock, work)


# --- usage summaries -------------------------------------------------------------------


def _new_summary(engine: Engine, clock: Clock, bot: str | None) -> Callable[..., Any]:
    def work(caller: ClientCaller, body: Any) -> Any:
        query = queries.summary_query(body)
        with unit_of_work(engine, write=True) as session:
            named = [bot] if bot is not None else list(query.stream_ids)
            service.check_bots(session, workspace_id=caller.workspace_id, bot_ids=named)
            return service.create_job(
                session,
                workspace_id=caller.workspace_id,
                client_id=caller.client_id,
                bot_id=bot,
                query=query,
                now=clock.now(),
            )

    return work


def _summary_status(
    engine: Engine, clock: Clock, bot: str | None, kind: str | None
) -> Callable[..., Any]:
    def work(caller: ClientCaller, _body: Any) -> Any:
        if kind != "summary":
            raise bad_request("type must be 'summary'")
        with settled_read(engine, clock, workspace_id=caller.workspace_id) as (session, _):
            if bot is not None:
                service.check_bots(session, workspace_id=caller.workspace_id, bot_ids=[bot])
            job = service.latest_job(session, client_id=caller.client_id, bot_id=bot)
            return service.job_result(session, job=job, now=clock.now())

    return work


@public.post("/bot/{bot_id}/billingsessionsummary")
async def bot_summary(
    bot_id: str, request: Request, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Ask for one bot's usage summary; answers the job record."""
    work = _new_summary(engine, clock, bot_id)
    return await _answer(request, engine, settings.secret_key, clock, work)


@public.post("/bots/billingsessionsummary")
@public.post("/billingsessionsummary")
async def account_summary(
    request: Request, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Ask for the workspace's usage summary (``streamIds`` narrows it to some bots)."""
    work = _new_summary(engine, clock, None)
    return await _answer(request, engine, settings.secret_key, clock, work)


TypeQuery = Annotated[str | None, Query(alias="type", description="Always 'summary'.")]


@public.get("/bot/{bot_id}/billingsessionsummary/status")
async def bot_summary_status(
    bot_id: str,
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    kind: TypeQuery = None,
) -> Response:
    """The result of the caller's latest summary request for this bot."""
    work = _summary_status(engine, clock, bot_id, kind)
    return await _answer(request, engine, settings.secret_key, clock, work)


@public.get("/bots/billingsessionsummary/status")
@public.get("/billingsessionsummary/status")
async def account_summary_status(
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    kind: TypeQuery = None,
) -> Response:
    """The result of the caller's latest workspace summary request."""
    work = _summary_status(engine, clock, None, kind)
    return await _answer(request, engine, settings.secret_key, clock, work)


router.include_router(public)
