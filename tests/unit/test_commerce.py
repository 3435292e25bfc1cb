"""Orders and coupons as the shop reckons them: a pending order's hold, a coupon's expiry and
its last redemption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from domain.commerce.model import ORDER_HOLD, Coupon, Order, OrderStatus, Provider
from domain.shared.money import Terms

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _order(status: OrderStatus = OrderStatus.PENDING) -> Order:
    return Order(
        id=uuid4(),
        course_id=uuid4(),
        buyer_id=uuid4(),
        status=status,
        amount=Decimal("10.00"),
        discount=Decimal("0.00"),
        total=Decimal("10.00"),
        currency="USD",
        provider=Provider.STRIPE,
        expires_at=NOW + ORDER_HOLD,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_pending_order_holds_until_its_hold_ends_then_shows_expired() -> None:
    order = _order()
    assert order.status_at(NOW) is OrderStatus.PENDING and order.holds(NOW)
    later = NOW + ORDER_HOLD
    assert order.status_at(later) is OrderStatus.EXPIRED and not order.holds(later)
    assert order.status is OrderStatus.PENDING  # as stored: a late payment still pays it


def test_a_settled_order_never_shows_expired() -> None:
    for status in (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.FAILED):
        order = _order(status)
        assert order.status_at(NOW + timedelta(days=30)) is status and not order.holds(NOW)


def test_a_coupon_is_used_up_by_its_paid_and_held_redemptions() -> None:
    coupon = Coupon(
        id=uuid4(),
        code="LAST",
        terms=Terms(percent_off=Decimal(10)),
        max_redemptions=2,
        redemptions=1,
        expires_at=NOW + timedelta(hours=1),
        created_at=NOW,
        updated_at=NOW,
    )
    assert not coupon.used_up(held=0)
    assert coupon.used_up(held=1)
    assert not coupon.expired(NOW) and coupon.expired(NOW + timedelta(hours=1))
    unlimited = Coupon(id=uuid4(), code="ANY", terms=Terms(amount_off=Decimal(5)), created_at=NOW, updated_at=NOW)
    assert not unlimited.used_up(held=10_000) and not unlimited.expired(NOW + timedelta(days=3650))
