from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def no_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL text cannot hold, on every backend alike."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    AfterValidator(no_nul),
]


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    SHARED = "shared"


APP_OWNER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER})


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(no_nul),
    ]
    role: Role


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    name: str
    role: Role
    created_at: datetime
    has_password: bool = Field(description="Whether the person has set a password.")


class MemberCreated(MemberOut):
    invitation_url: str = Field(
        description="A one-time link, valid for 7 days, where the person sets a password "
        "(for an email that already has one, it says to sign in with it)."
    )
