from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from botbill.auth.keys import Scope
from botbill.auth.models import ApiKey
from botbill.workspaces.schemas import no_nul

KeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(examples=["runtime ingest"])
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=16,
        description="`ingest` (only POST /v1/events), `read` (GET), `admin` (everything).",
        examples=[["ingest"]],
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="The last request made with the key, to the minute; null if never used."
    )
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The key itself: shown this once, stored only as a digest.")


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=sorted(Scope(scope) for scope in key.scope_set),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )
