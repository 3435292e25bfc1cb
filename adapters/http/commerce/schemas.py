"""Request and response bodies of the order, coupon and payment routes (API §14)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from adapters.http.bodies import (
    DecimalString,
    MoneyString,
    Timestamp,
    check_decimal,
    optional_decimal_string,
    response_of,
)
from adapters.http.validation import describe_pattern
from domain.commerce.model import Coupon, Order, OrderStatus

CouponCode = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=40,
        pattern=describe_pattern(r"^[A-Za-z0-9-]+$", "Must be letters, digits and hyphens"),
        description="Letters, digits and hyphens; stored and matched upper-case",
        examples=["SPRING-25"],
    ),
]


class OrderCreate(msgspec.Struct, kw_only=True):
    course_id: UUID
    coupon_code: CouponCode | None = None


class RefundBody(msgspec.Struct, kw_only=True):
    reason: Annotated[str, Meta(max_length=1000, examples=["Bought by mistake"])] | None = None


class OrderResponse(msgspec.Struct, kw_only=True):
    id: UUID
    course_id: UUID
    buyer_id: UUID
    status: Annotated[OrderStatus, Meta(description="`expired`: pending past its 24-hour hold")]
    amount: MoneyString
    discount: MoneyString
    total: Annotated[MoneyString, Meta(description="`amount - discount`: what the buyer pays")]
    currency: str
    coupon_code: str | None
    checkout_url: Annotated[
        str | None, Meta(description="The front end's page that completes the payment (Stripe orders)")
    ]
    client_secret: Annotated[
        str | None,
        Meta(description="What Stripe.js confirms the payment with (`stripe.confirmCardPayment`); the buyer's only"),
    ]
    paid_at: datetime | None
    refunded_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, order: Order, *, buyer_view: bool = True) -> OrderResponse:
        return response_of(
            cls,
            order,
            amount=str(order.amount),
            discount=str(order.discount),
            total=str(order.total),
            client_secret=order.client_secret if buyer_view and order.status is OrderStatus.PENDING else None,
        )


class CouponCreate(msgspec.Struct, kw_only=True):
    code: CouponCode
    percent_off: Annotated[Decimal, Meta(description="1 to 100", examples=["25"])] | None = None
    amount_off: (
        Annotated[
            Decimal,
            Meta(description="Above 0, in the course's currency (a global coupon: any currency)", examples=["10.00"]),
        ]
        | None
    ) = None
    course_id: UUID | None = None
    max_redemptions: Annotated[int, Meta(ge=1, le=1_000_000_000)] | None = None
    expires_at: Timestamp | None = None

    def checked(self) -> CouponCreate:
        check_decimal("percent_off", self.percent_off, Decimal(100), least=Decimal(1))
        check_decimal("amount_off", self.amount_off, Decimal(999_999_999), positive=True)
        return self


def _amount_off(value: Decimal | None) -> str | None:
    """Two decimals, or three where the third is used (a coupon of a course sold in BHD)."""
    if value is None:
        return None
    return f"{value:.2f}" if value == round(value, 2) else f"{value:.3f}"


class CouponResponse(msgspec.Struct, kw_only=True):
    id: UUID
    code: str
    percent_off: DecimalString | None
    amount_off: MoneyString | None
    course_id: UUID | None
    max_redemptions: int | None
    redemptions: Annotated[int, Meta(description="Paid orders that used it")]
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, coupon: Coupon) -> CouponResponse:
        terms = coupon.terms
        return response_of(
            cls,
            coupon,
            percent_off=optional_decimal_string(terms.percent_off),
            amount_off=_amount_off(terms.amount_off),
        )
