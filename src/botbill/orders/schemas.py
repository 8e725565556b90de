from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from botbill.orders.models import Order

CardToken = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class FundsRequest(BaseModel):
    """``POST /v1/apps/{app_id}/funds``."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(description="Minor units of the workspace's currency.")
    payment_method: Literal["card", "wire"]
    token: CardToken | None = Field(
        default=None,
        validate_default=True,
        description="The card's token (payment method card only).",
    )

    @field_validator("token")
    @classmethod
    def _token_with_card_only(cls, token: str | None, info: ValidationInfo) -> str | None:
        if "payment_method" not in info.data:
            return token  # the payment method itself is wrong: reported there
        method = info.data["payment_method"]
        if method == "card" and token is None:
            raise ValueError("a card payment needs a token")
        if method == "wire" and token is not None:
            raise ValueError("a wire transfer takes no token")
        return token


class OrderOut(BaseModel):
    id: str
    app_id: str
    kind: Literal["add_funds", "subscription", "renewal", "plan_change"]
    plan: str | None
    amount: int = Field(description="The net cost, in minor units.")
    credit: int = Field(description="Unused-fee credit already taken off the net cost.")
    tax_rate: str = Field(description="The buyer's tax rate; `0` when paid from the balance.")
    tax: int = Field(description="round_half_even(amount x tax_rate), in minor units.")
    total: int = Field(description="amount + tax: what the card or the wire is charged.")
    currency: str
    payment_method: Literal["card", "wire", "balance"]
    payment_status: Literal["pending", "paid", "failed", "refunded"]
    billing_date: datetime
    paid_at: datetime | None
    failure_reason: str | None
    invoice_id: str | None = Field(
        description="The order's invoice once paid by card or wire (its replacement once "
        "voided); null for an order paid from the balance, a pending or a failed one."
    )


def order_out(order: Order) -> OrderOut:
    return OrderOut.model_validate(
        {
            "id": order.id,
            "app_id": order.app_id,
            "kind": order.kind,
            "plan": order.plan_code,
            "amount": order.amount,
            "credit": order.credit,
            "tax_rate": order.tax_rate,
            "tax": order.tax,
            "total": order.total,
            "currency": order.currency,
            "payment_method": order.payment_method,
            "payment_status": order.payment_status,
            "billing_date": order.created_at,
            "paid_at": order.paid_at,
            "failure_reason": order.failure_reason,
            "invoice_id": order.invoice_id,
        }
    )
