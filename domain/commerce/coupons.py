"""Coupons (API §14 Y7): a percentage or an amount off, for one course or every course, with an
expiry and a redemption limit. Admins manage every coupon; an instructor the ones bound to a
course they own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.catalog import rules as catalog_rules
from domain.catalog.services import COURSE_NOT_FOUND
from domain.commerce.model import Coupon
from domain.commerce.orders import COUPON_NOT_FOUND
from domain.commerce.ports import CommerceUnitOfWorkFactory
from domain.identity.model import Role, User
from domain.integrations.audit import audit_entry
from domain.shared import money
from domain.shared.clock import Clock
from domain.shared.errors import Forbidden, InvalidInput, NotFound
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams

ONE_OF = "Give either percent_off or amount_off"
EXPIRY_PAST = "expires_at must be in the future"
COUPON_EXISTS = "Coupon code already exists"
NOT_AUTHORIZED = "Not authorized to manage coupons"
NOT_AUTHORIZED_COURSE = "Not authorized to manage coupons of this course"

COUPON = "coupon"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCoupon:
    code: str
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    course_id: UUID | None = None
    max_redemptions: int | None = None
    expires_at: datetime | None = None


@dataclass(slots=True)
class CouponService:
    uow: CommerceUnitOfWorkFactory
    clock: Clock

    async def create(self, actor: User, new: NewCoupon) -> Coupon:
        if actor.role not in (Role.ADMIN, Role.INSTRUCTOR):
            raise Forbidden(NOT_AUTHORIZED)
        if (new.percent_off is None) == (new.amount_off is None):
            raise InvalidInput(ONE_OF)
        now = self.clock.now()
        if new.expires_at is not None and new.expires_at <= now:
            raise InvalidInput(EXPIRY_PAST)
        async with self.uow() as uow:
            amount_off = new.amount_off
            if new.course_id is not None:
                course = await uow.courses.get(new.course_id)
                if course is None:
                    raise NotFound(COURSE_NOT_FOUND)
                if not catalog_rules.can_manage(actor, course):
                    raise Forbidden(NOT_AUTHORIZED_COURSE)
                if amount_off is not None:  # in the course's currency, to its minor unit
                    amount_off = money.price(amount_off, course.currency, field="body.amount_off")
            elif actor.role is not Role.ADMIN:
                raise Forbidden(NOT_AUTHORIZED_COURSE)  # a coupon for every course is the admins'
            coupon = Coupon(
                id=new_id(),
                code=new.code.upper(),
                terms=money.Terms(percent_off=new.percent_off, amount_off=amount_off),
                course_id=new.course_id,
                max_redemptions=new.max_redemptions,
                expires_at=new.expires_at,
                created_by=actor.id,
                created_at=now,
                updated_at=now,
            )
            await uow.coupons.add(coupon)
            await uow.audit.add(audit_entry("coupon_created", COUPON, coupon.id, actor, now, code=coupon.code))
            await uow.commit()
        return coupon

    async def list_coupons(self, actor: User, params: PageParams) -> Page[Coupon]:
        if actor.role not in (Role.ADMIN, Role.INSTRUCTOR):
            raise Forbidden(NOT_AUTHORIZED)
        async with self.uow() as uow:
            return await uow.coupons.page(params, owner_id=None if actor.role is Role.ADMIN else actor.id)

    async def delete(self, actor: User, coupon_id: UUID) -> None:
        """Orders made with it keep its code; no new order can use it."""
        if actor.role not in (Role.ADMIN, Role.INSTRUCTOR):
            raise Forbidden(NOT_AUTHORIZED)
        now = self.clock.now()
        async with self.uow() as uow:
            coupon = await uow.coupons.get(coupon_id)
            if coupon is None:
                raise NotFound(COUPON_NOT_FOUND)
            if actor.role is not Role.ADMIN:
                course = await uow.courses.get(coupon.course_id) if coupon.course_id else None
                if course is None or not catalog_rules.can_manage(actor, course):
                    raise NotFound(COUPON_NOT_FOUND)  # not theirs: not shown to them either
            await uow.coupons.delete(coupon_id)
            await uow.audit.add(audit_entry("coupon_deleted", COUPON, coupon_id, actor, now, code=coupon.code))
            await uow.commit()
