"""The commerce repositories on one AsyncSession: orders, coupons and the provider's processed events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.mappers import entity_from_row, row_values
from adapters.sql.models import COUPONS, ORDERS, PAYMENT_EVENTS, CourseRow
from adapters.sql.paging import page_in
from adapters.sql.statements import first_row, insert_ignoring_conflicts
from domain.commerce.coupons import COUPON_EXISTS
from domain.commerce.model import Coupon, Order, OrderStatus, Provider
from domain.shared import money
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams

COURSES = cast(Table, CourseRow.__table__)


def order_from_row(row: Any) -> Order:
    def in_currency(value: Decimal) -> Decimal:
        return money.rounded(value, row.currency)

    return entity_from_row(
        Order,
        row,
        status=OrderStatus,
        provider=Provider,
        amount=in_currency,
        discount=in_currency,
        total=in_currency,
    )


def coupon_from_row(row: Any) -> Coupon:
    percent = Decimal(row.percent_off) if row.percent_off is not None else None
    amount = Decimal(row.amount_off) if row.amount_off is not None else None
    return Coupon(
        id=row.id,
        code=row.code,
        terms=money.Terms(percent_off=percent, amount_off=amount),
        course_id=row.course_id,
        max_redemptions=row.max_redemptions,
        redemptions=row.redemptions,
        expires_at=row.expires_at,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _coupon_values(coupon: Coupon) -> dict[str, object]:
    values = row_values(coupon)
    del values["terms"]
    values["percent_off"] = coupon.terms.percent_off
    values["amount_off"] = coupon.terms.amount_off
    return values


def _holding(now: datetime) -> Any:
    """Pending orders still within their hold."""
    return (ORDERS.c.status == OrderStatus.PENDING.value) & (ORDERS.c.expires_at > now)


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, order_id: UUID, *, lock: bool = False) -> Order | None:
        return await self._one(ORDERS.c.id == order_id, lock=lock)

    async def by_reference(self, provider: Provider, reference: str, *, lock: bool = False) -> Order | None:
        return await self._one((ORDERS.c.provider == provider.value) & (ORDERS.c.reference == reference), lock=lock)

    async def _one(self, condition: Any, *, lock: bool) -> Order | None:
        row = await first_row(self._s, ORDERS, condition, lock=lock)
        return order_from_row(row) if row else None

    async def open_for(self, buyer_id: UUID, course_id: UUID, now: datetime) -> Order | None:
        query = (
            select(ORDERS)
            .where(ORDERS.c.buyer_id == buyer_id, ORDERS.c.course_id == course_id, _holding(now))
            .order_by(ORDERS.c.created_at.desc())
            .limit(1)
        )
        row = (await self._s.execute(query)).first()
        return order_from_row(row) if row else None

    async def held(self, coupon_id: UUID, now: datetime) -> int:
        query = select(func.count()).select_from(ORDERS).where(ORDERS.c.coupon_id == coupon_id, _holding(now))
        return int((await self._s.execute(query)).scalar_one())

    async def add(self, order: Order) -> None:
        await self._s.execute(insert(ORDERS).values(**row_values(order)))

    async def save(self, order: Order) -> None:
        values = row_values(order)
        for fixed in ("id", "course_id", "buyer_id", "created_at"):
            del values[fixed]
        await self._s.execute(update(ORDERS).where(ORDERS.c.id == order.id).values(**values))

    async def page(self, params: PageParams, *, buyer_id: UUID | None) -> Page[Order]:
        query = select(ORDERS)
        if buyer_id is not None:
            query = query.where(ORDERS.c.buyer_id == buyer_id)
        ordered = query.order_by(ORDERS.c.created_at.desc(), ORDERS.c.id.desc())
        return await page_in(self._s, ordered, params, order_from_row)


class SqlCouponRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, coupon_id: UUID) -> Coupon | None:
        row = await first_row(self._s, COUPONS, COUPONS.c.id == coupon_id)
        return coupon_from_row(row) if row else None

    async def by_code(self, code: str, *, lock: bool = False) -> Coupon | None:
        row = await first_row(self._s, COUPONS, COUPONS.c.code == code, lock=lock)
        return coupon_from_row(row) if row else None

    async def add(self, coupon: Coupon) -> None:
        try:
            await self._s.execute(insert(COUPONS).values(**_coupon_values(coupon)))
        except IntegrityError:
            raise Conflict(COUPON_EXISTS) from None

    async def delete(self, coupon_id: UUID) -> None:
        await self._s.execute(delete(COUPONS).where(COUPONS.c.id == coupon_id))

    async def page(self, params: PageParams, *, owner_id: UUID | None) -> Page[Coupon]:
        query = select(COUPONS)
        if owner_id is not None:
            owned = select(COURSES.c.id).where(COURSES.c.instructor_id == owner_id)
            query = query.where(COUPONS.c.course_id.in_(owned))
        ordered = query.order_by(COUPONS.c.created_at.desc(), COUPONS.c.id.desc())
        return await page_in(self._s, ordered, params, coupon_from_row)

    async def redeem(self, coupon_id: UUID) -> bool:
        room = or_(COUPONS.c.max_redemptions.is_(None), COUPONS.c.redemptions < COUPONS.c.max_redemptions)
        statement = update(COUPONS).where(COUPONS.c.id == coupon_id, room).values(redemptions=COUPONS.c.redemptions + 1)
        result: Any = await self._s.execute(statement)
        return bool(result.rowcount == 1)


class SqlProcessedEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def first_time(self, provider: Provider, event_id: str, now: datetime) -> bool:
        statement = insert_ignoring_conflicts(self._s, PAYMENT_EVENTS).values(
            provider=provider.value, event_id=event_id, processed_at=now
        )
        result: Any = await self._s.execute(statement)
        return bool(result.rowcount == 1)
