"""FastAPI plumbing shared by every router: the engine, the clock, units of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def _read_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with unit_of_work(engine, write=False) as session:
        yield session


def _write_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with unit_of_work(engine, write=True) as session:
        yield session


ReadSession = Annotated[Session, Depends(_read_session)]
# scope="function": the unit of work commits before the response is sent, so a client
# that got its 201 reads the change on its next request (and a failed commit is a 500).
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]
ClockDep = Annotated[Clock, Depends(get_clock)]
