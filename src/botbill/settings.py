"""botbill's settings: one class, read from ``BOTBILL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "botbill-development-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOTBILL_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///botbill.db"
    secret_key: str = DEVELOPMENT_SECRET
    migrate_on_start: bool = True

    # Ingest (API.md, Events)
    max_batch_events: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_future_seconds: int = Field(default=300, ge=0)
    backfill_days: int = Field(default=35, ge=1)

    # Background work
    jobs_enabled: bool = True
    completion_interval_seconds: float = Field(default=5.0, gt=0)

    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("BOTBILL_SECRET_KEY must be set in production")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
