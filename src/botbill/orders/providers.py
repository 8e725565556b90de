"""Payment providers (SPEC §4): one interface, a ``test`` card provider and ``wire``.

A provider is asked to collect an amount for an order and answers at once: paid, declined,
or pending (a wire transfer waits until an operator confirms its receipt). A real card
processor plugs in behind :class:`CardProvider` (charging a saved payment method's token).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from botbill.kit.money import Money


class PaymentMethod(StrEnum):
    CARD = "card"
    WIRE = "wire"
    BALANCE = "balance"
    """Plan fees paid from the app's prepaid balance (no provider involved)."""


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class Outcome(StrEnum):
    PAID = "paid"
    DECLINED = "declined"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class PaymentResult:
    outcome: Outcome
    reference: str | None = None
    reason: str | None = None


class InvalidToken(ValueError):
    """A card token the provider does not know: the request is wrong, not the card."""


class CardProvider(Protocol):
    name: str

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult: ...


class TestCardProvider:
    """Token ``tok_ok`` is charged, ``tok_declined`` is declined; others are invalid."""

    name = "test"
    OK = "tok_ok"
    DECLINED = "tok_declined"

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        if token == self.OK:
            return PaymentResult(Outcome.PAID, reference=f"test_{order_id}")
        if token == self.DECLINED:
            return PaymentResult(Outcome.DECLINED, reason="the card was declined")
        raise InvalidToken(
            f"unknown card token {token!r} (the test provider knows tok_ok, tok_declined)"
        )


class NoCardProvider:
    """Cards switched off (production without a real processor): every token is refused."""

    name = "none"

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        raise InvalidToken("card payments are not available on this server; pay by wire")


class WireProvider:
    """Wire transfers: pending until an operator confirms receipt."""

    name = "wire"

    def request(self, *, amount: Money, order_id: str) -> PaymentResult:
        return PaymentResult(Outcome.PENDING, reference=f"wire_{order_id}")


def card_provider(name: str) -> CardProvider:
    providers: dict[str, CardProvider] = {"test": TestCardProvider(), "none": NoCardProvider()}
    return providers[name]
