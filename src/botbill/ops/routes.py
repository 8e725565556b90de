from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from botbill.kit.problems import Problem
from botbill.kit.web import EngineDep
from botbill.ops.metrics import render

router = APIRouter(tags=["operations"])


class NotReady(Problem):
    status, slug, title = 503, "not-ready", "Not ready"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(engine: EngineDep) -> dict[str, str]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means "not ready"
        raise NotReady(f"the database is not reachable: {type(error).__name__}") from None
    return {"status": "ready", "database": engine.dialect.name}


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")
