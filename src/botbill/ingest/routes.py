from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from botbill.auth.dependencies import Ingester
from botbill.events.parsing import parse_events
from botbill.events.schemas import IngestResult
from botbill.events.service import TimeLimits
from botbill.ingest.service import ingest
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, SECOND
from botbill.kit.problems import PayloadTooLarge
from botbill.kit.web import ClockDep, EngineDep
from botbill.ops.metrics import EVENTS_ACCEPTED, EVENTS_DUPLICATE
from botbill.settings import Settings

router = APIRouter(tags=["events"])


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes the size limit. Called by the
    route itself, after its dependencies have checked the caller's key."""
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return bytes(chunks)


@router.post(
    "/v1/events",
    summary="Ingest CloudEvents (structured, batched or binary mode)",
    responses={
        400: {"description": "The body is not a JSON object or array"},
        413: {"description": "More than the batch's limit of events or bytes"},
        415: {"description": "Not a CloudEvents content mode"},
        429: {"description": "Metering is behind: nothing stored; send it again later"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/cloudevents+json": {"schema": {"type": "object"}},
                "application/cloudevents-batch+json": {"schema": {"type": "array"}},
                "application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
            },
        }
    },
)
async def post_events(
    request: Request,
    caller: Ingester,
    engine: EngineDep,
    clock: ClockDep,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> IngestResult:
    body = await read_body(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    limits = TimeLimits(
        max_future=settings.max_future_seconds * SECOND, max_age=settings.backfill_days * DAY
    )

    def work() -> IngestResult:
        events = parse_events(
            body,
            content_type=headers.get("content-type"),
            headers=headers,
            max_events=settings.max_batch_events,
        )
        with unit_of_work(engine, write=True) as session:
            counts = ingest(
                session,
                workspace_id=caller.workspace_id,
                events=events,
                now=clock.now(),
                limits=limits,
                max_pending=settings.max_pending_events,
            )
        return IngestResult(accepted=counts.accepted, duplicates=counts.duplicates)

    result = await run_in_threadpool(work)
    EVENTS_ACCEPTED.inc(result.accepted)
    EVENTS_DUPLICATE.inc(result.duplicates)
    return result
