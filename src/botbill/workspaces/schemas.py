from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
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
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
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
