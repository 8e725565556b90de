"""Who is calling, for the operator endpoints: an operator key, never a workspace key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from botbill.kit.db import unit_of_work
from botbill.kit.problems import Forbidden, Unauthorized
from botbill.kit.web import EngineDep
from botbill.operators.service import OPERATOR_KEY_PREFIX, find_operator_key
from botbill.workspaces.service import find_key


@dataclass(frozen=True, slots=True)
class OperatorCaller:
    key_id: str


def authenticate_operator(request: Request, engine: EngineDep) -> OperatorCaller:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send an operator key as 'Authorization: Bearer <key>'")
    with unit_of_work(engine, write=False) as session:
        key = find_operator_key(session, secret) if secret.startswith(OPERATOR_KEY_PREFIX) else None
        if key is not None:
            return OperatorCaller(key_id=key.id)
        if find_key(session, secret) is not None:
            raise Forbidden("this is an operator action; a workspace API key may not do it")
    raise Unauthorized("unknown or revoked API key")


OperatorDep = Annotated[OperatorCaller, Depends(authenticate_operator)]
