"""What commerce needs from outside: a payment provider (API §14)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.shared.errors import InvalidInput, Unavailable

INVALID_SIGNATURE = "Invalid signature"
PAYMENTS_UNAVAILABLE = "The payment provider cannot be reached; try again shortly"


class InvalidSignature(InvalidInput):
    def __init__(self) -> None:
        super().__init__(INVALID_SIGNATURE)


class PaymentsUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__(PAYMENTS_UNAVAILABLE)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """One order's payment: what the buyer is charged, in the currency's decimals."""

    order_id: UUID
    amount: Decimal
    currency: str
    description: str


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment the provider has opened: its reference, and what the buyer's client completes
    it with (a client secret for the provider's own script, or a page to send the buyer to)."""

    reference: str
    client_secret: str | None = None
    checkout_url: str | None = None


class Outcome(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    OTHER = "other"  # acknowledged and ignored


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A notification the provider signed: its own id (processed once by it), what it says
    happened, and to which payment and order."""

    id: str
    type: str
    outcome: Outcome
    reference: str | None = None
    order_id: UUID | None = None


class PaymentProvider(Protocol):
    async def start(self, request: PaymentRequest, idempotency_key: str) -> Payment:
        """Open the payment (the same key twice opens it once). PaymentsUnavailable when the
        provider cannot be reached."""
        ...

    async def is_paid(self, reference: str) -> bool:
        """Asked of the provider, never of the client."""
        ...

    async def refund(self, reference: str, idempotency_key: str) -> str:
        """Give the whole payment back; the refund's reference."""
        ...

    def verify(self, payload: bytes, signature: str | None) -> ProviderEvent:
        """The event, when the signature is the provider's and recent; InvalidSignature else."""
        ...
