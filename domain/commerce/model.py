"""Orders and coupons (API §14): what a buyer is charged for a course, and what a coupon takes off."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from domain.shared.money import Terms

# A pending order holds its coupon's redemption this long; after it, the order shows `expired` and
# the redemption is free for another buyer (a payment that still arrives is honoured).
ORDER_HOLD = timedelta(hours=24)


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    FAILED = "failed"


class Provider(enum.StrEnum):
    """Who took the money: Stripe, an admin (an invoice paid outside), or nobody (a zero total)."""

    STRIPE = "stripe"
    MANUAL = "manual"
    FREE = "free"


@dataclass(slots=True, kw_only=True)
class Order:
    id: UUID
    course_id: UUID
    buyer_id: UUID
    status: OrderStatus
    amount: Decimal
    discount: Decimal
    total: Decimal
    currency: str
    coupon_id: UUID | None = None
    coupon_code: str | None = None
    provider: Provider
    reference: str | None = None  # the provider's payment
    client_secret: str | None = None  # what the buyer's client confirms the payment with
    checkout_url: str | None = None
    paid_at: datetime | None = None
    refunded_at: datetime | None = None
    refund_reason: str | None = None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime

    def status_at(self, now: datetime) -> OrderStatus:
        """As the buyer sees it: a pending order past its hold is `expired`."""
        if self.status is OrderStatus.PENDING and now >= self.expires_at:
            return OrderStatus.EXPIRED
        return self.status

    def holds(self, now: datetime) -> bool:
        """Does it still hold its coupon's redemption (pending, within its hold)?"""
        return self.status_at(now) is OrderStatus.PENDING


@dataclass(slots=True, kw_only=True)
class Coupon:
    id: UUID
    code: str
    terms: Terms
    course_id: UUID | None = None
    max_redemptions: int | None = None
    redemptions: int = 0
    expires_at: datetime | None = None
    created_by: UUID | None = None
    created_at: datetime
    updated_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def used_up(self, held: int) -> bool:
        """No redemption left once the paid ones and the `held` ones (pending orders) are counted."""
        return self.max_redemptions is not None and self.redemptions + held >= self.max_redemptions
