"""The botbill-side API of the compat package: managing API clients (``/v1/api-clients``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from botbill.compat.clients import ClientScope
from botbill.compat.models import ApiClient
from botbill.workspaces.schemas import no_nul


class ApiClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(no_nul),
    ]
    scopes: list[ClientScope] = Field(
        default=[ClientScope.BILLING_SESSIONS_READ],
        description="What the client may call; default billing_sessions:read.",
    )


class ApiClientOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, client: ApiClient) -> ApiClientOut:
        return cls(
            client_id=client.id,
            name=client.name,
            scopes=sorted(client.scope_set - {""}),
            created_at=client.created_at,
            revoked_at=client.revoked_at,
        )


class ApiClientIssued(ApiClientOut):
    client_secret: str = Field(description="Shown once: sign HS256 JWTs with it.")
