"""What commerce needs from outside: a payment provider, and the order, coupon and processed-event
tables (API §14)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.commerce.model import Coupon, Order, Provider
from domain.learning.ports import LearningUnitOfWork
from domain.shared.errors import InvalidInput, Unavailable
from domain.shared.pagination import Page, PageParams

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
    """A payment the provider has opened: its reference, and the secret the buyer's client
    completes it with through the provider's own script."""

    reference: str
    client_secret: str | None = None


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


class OrderRepository(Protocol):
    async def get(self, order_id: UUID, *, lock: bool = False) -> Order | None:
        """`lock=True` holds the row until the unit of work ends: one change of an order at a time."""
        ...

    async def by_reference(self, provider: Provider, reference: str, *, lock: bool = False) -> Order | None: ...
    async def open_for(self, buyer_id: UUID, course_id: UUID, now: datetime) -> Order | None:
        """The buyer's pending order for the course still within its hold, if any."""
        ...

    async def held(self, coupon_id: UUID, now: datetime) -> int:
        """How many pending orders within their hold name the coupon."""
        ...

    async def add(self, order: Order) -> None: ...
    async def save(self, order: Order) -> None: ...
    async def page(self, params: PageParams, *, buyer_id: UUID | None) -> Page[Order]:
        """Newest first: the buyer's, or everyone's when `buyer_id` is None."""
        ...


class CouponRepository(Protocol):
    async def get(self, coupon_id: UUID) -> Coupon | None: ...
    async def by_code(self, code: str, *, lock: bool = False) -> Coupon | None:
        """`lock=True` serialises the orders that would take its last redemptions."""
        ...

    async def add(self, coupon: Coupon) -> None:
        """Insert; raises Conflict(COUPON_EXISTS) when the code is taken (end the unit of work then)."""
        ...

    async def delete(self, coupon_id: UUID) -> None: ...
    async def page(self, params: PageParams, *, owner_id: UUID | None) -> Page[Coupon]:
        """Newest first: every coupon, or only those bound to a course `owner_id` owns."""
        ...

    async def redeem(self, coupon_id: UUID) -> bool:
        """Count one redemption unless the limit is reached (one conditional write: racing
        payments cannot both take the last one); True when counted."""
        ...


class ProcessedEvents(Protocol):
    async def first_time(self, provider: Provider, event_id: str, now: datetime) -> bool:
        """Record the provider's event; False when it was recorded before (a redelivery). Racing
        deliveries of one event: the second waits for the first's transaction and gets False."""
        ...


class CommerceUnitOfWork(LearningUnitOfWork, Protocol):
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def coupons(self) -> CouponRepository: ...
    @property
    def payment_events(self) -> ProcessedEvents: ...


class CommerceUnitOfWorkFactory(Protocol):
    def __call__(self) -> CommerceUnitOfWork: ...
