"""botbill's settings: one class, read from ``BOTBILL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from botbill.kit.countries import check_country
from botbill.kit.logging import LogFormat

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

    # Balances and orders (SPEC §3.3, §4); amounts in minor units of the workspace currency
    funds_min_amount: int = Field(default=10_000, ge=1)
    funds_max_amount: int = Field(default=2_000_000, ge=1)
    low_balance_threshold: int = Field(default=5_000, ge=0)
    card_provider: Literal["test", "none"] | None = Field(
        default=None, description="Default: 'test' outside production, 'none' in production."
    )

    # The seller on invoices until an operator sets its profile (SPEC §4)
    seller_legal_name: str = Field(default="Example Platform Ltd", min_length=1, max_length=200)
    seller_address_lines: list[str] = Field(
        default=["1 Example Street", "London EC1A 1BB"], max_length=5
    )
    seller_country: str = Field(default="GB", description="ISO 3166-1 alpha-2.")
    seller_tax_id: str = Field(default="GB000000000", min_length=1, max_length=64)
    seller_email: str = Field(
        default="billing@example.com", pattern=r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
    )

    # Background work
    jobs_enabled: bool = True
    max_pending_events: int = Field(
        default=10_000,
        ge=1,
        description="Events of one workspace waiting for metering before ingest answers 429 "
        "(about a quarter of a second of the drain); the worker drains at once past half.",
    )
    completion_interval_seconds: float = Field(default=5.0, gt=0)
    lifecycle_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often renewals, expiries, lapses and auto-reloads run unasked.",
    )
    # Webhooks (SPEC §8)
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the sender looks for due deliveries."
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, description="Deliveries one sender posts at once."
    )
    webhook_sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often entitlement changes and the notices that time or usage "
        "bring are looked for and announced.",
    )

    log_format: LogFormat = Field(
        default="auto",
        description="'auto': readable text lines when stderr is a terminal, JSON lines otherwise.",
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("BOTBILL_SECRET_KEY must be set in production")
        if self.environment == "production" and self.card_provider == "test":
            raise ValueError("the test card provider accepts any tok_ok: refused in production")
        check_country(self.seller_country)
        if self.funds_min_amount > self.funds_max_amount:
            raise ValueError("BOTBILL_FUNDS_MIN_AMOUNT is above BOTBILL_FUNDS_MAX_AMOUNT")
        return self

    @property
    def effective_card_provider(self) -> str:
        if self.card_provider is not None:
            return self.card_provider
        return "none" if self.environment == "production" else "test"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
