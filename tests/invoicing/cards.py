"""A card provider that remembers what it was asked to charge."""

from __future__ import annotations

from botbill.kit.money import Money
from botbill.orders.providers import PaymentResult, TestCardProvider


class RecordingCards(TestCardProvider):
    def __init__(self) -> None:
        self.charges: list[tuple[str, Money]] = []

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        self.charges.append((order_id, amount))
        return super().charge(token=token, amount=amount, order_id=order_id)
