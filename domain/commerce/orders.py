"""Orders (API §14 Y1-Y6): a buyer orders a paid course, the provider confirms the payment, and the
paid order enrolls the buyer in the same transaction; refunds drop the enrollment again.

Money is confirmed only by the provider: its signed event (processed once by the event's id), or
a server-side question when the buyer comes back. A payment is opened with the provider before
the order is stored, so a provider that cannot be reached leaves nothing behind (`503`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.catalog import rules as catalog_rules
from domain.catalog.model import Course
from domain.catalog.services import COURSE_NOT_FOUND
from domain.commerce import emails
from domain.commerce.model import ORDER_HOLD, Coupon, Order, OrderStatus, Provider
from domain.commerce.ports import (
    CommerceUnitOfWork,
    CommerceUnitOfWorkFactory,
    Outcome,
    PaymentProvider,
    PaymentRequest,
    ProviderEvent,
)
from domain.identity.model import Role, User
from domain.identity.ports import UserLookup
from domain.integrations.audit import audit_entry
from domain.integrations.model import ORDER_PAID, ORDER_REFUNDED, DomainEvent
from domain.learning.model import EnrollmentStatus
from domain.learning.services import ONLY_STUDENTS, UNPUBLISHED, admit, refuse_missing_prerequisites
from domain.shared import money
from domain.shared.clock import Clock, iso
from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue

ORDER_NOT_FOUND = "Order not found"
ALREADY_ENROLLED = "Already enrolled"
COURSE_IS_FREE = "Course is free"
COUPON_NOT_FOUND = "Coupon not found"
COUPON_EXPIRED = "Coupon has expired"
COUPON_USED_UP = "Coupon has been used up"
NOT_CONFIGURED = "Payments are not configured"
STRIPE_NOT_CONFIGURED = "Payments through Stripe are not configured"
ONLY_PAID_REFUNDED = "Only a paid order can be refunded"
NOT_PENDING = "Order is not pending"
NOT_MANUAL = "Only an order of manual payments can be marked paid"

ORDER = "order"


@dataclass(frozen=True, slots=True)
class Placed:
    order: Order
    created: bool  # False: the buyer's open order for the course, with the same coupon, again


@dataclass(frozen=True, slots=True)
class _Checked:
    course: Course
    coupon: Coupon | None
    quote: money.Quote
    open: Order | None  # the buyer's pending order for the course


def order_event(order: Order, kind: str, now: datetime) -> DomainEvent:
    """`order.paid` / `order.refunded` (API §9.1): the order's figures as the receipt shows them."""
    return DomainEvent(
        type=kind,
        occurred_at=now,
        data={
            "order_id": str(order.id),
            "course_id": str(order.course_id),
            "buyer_id": str(order.buyer_id),
            "status": order.status.value,
            "amount": str(order.amount),
            "discount": str(order.discount),
            "total": str(order.total),
            "currency": order.currency,
            "coupon_code": order.coupon_code,
            "paid_at": iso(order.paid_at) if order.paid_at else None,
            "refunded_at": iso(order.refunded_at) if order.refunded_at else None,
        },
    )


def _pending_manual(order: Order) -> None:
    """Y5: only an order of manual payments, and only while pending, is marked paid by an admin."""
    if order.provider is not Provider.MANUAL:
        raise Conflict(NOT_MANUAL)
    if order.status is not OrderStatus.PENDING:
        raise Conflict(NOT_PENDING)


@dataclass(slots=True)
class OrderService:
    uow: CommerceUnitOfWorkFactory
    users: UserLookup
    queue: JobQueue
    clock: Clock
    # Who takes money: Stripe (`payments` set), an admin (`manual://`), or nobody (`503`).
    payments: PaymentProvider | None = None
    provider: Provider | None = None
    frontend_url: str = "http://localhost:3000"

    # ----- Y1: ordering -----

    async def place(self, actor: User, course_id: UUID, coupon_code: str | None = None) -> Placed:
        """A pending order with the provider's payment opened, or a paid one at once when the total
        is zero. The buyer's open order for the course with the same coupon is answered again
        (ordering twice opens one payment); one with another coupon is let go (`expired`)."""
        if actor.role not in (Role.STUDENT, Role.ADMIN):
            raise Forbidden(ONLY_STUDENTS)
        code = coupon_code.strip().upper() if coupon_code is not None else None
        now = self.clock.now()
        async with self.uow() as uow:
            checked = await self._check(uow, actor, course_id, code, now, lock=False)
        if checked.open is not None and checked.open.coupon_code == code:
            return Placed(checked.open, created=False)
        order_id = new_id()
        payment = None
        provider = Provider.FREE
        if not checked.quote.free:
            provider = self._provider()
            if self.payments is not None:
                payment = await self.payments.start(
                    PaymentRequest(order_id, checked.quote.total, checked.quote.currency, checked.course.title),
                    idempotency_key=f"order-{order_id}",
                )
        async with self.uow() as uow:
            # Again, locked: the coupon's last redemption and the buyer's enrollment may have gone
            # while the provider answered.
            checked = await self._check(uow, actor, course_id, code, now, lock=True)
            if checked.open is not None:
                if checked.open.coupon_code == code:
                    return Placed(checked.open, created=False)
                checked.open.status = OrderStatus.EXPIRED
                checked.open.updated_at = now
                await uow.orders.save(checked.open)
            quote = checked.quote
            order = Order(
                id=order_id,
                course_id=course_id,
                buyer_id=actor.id,
                status=OrderStatus.PENDING,
                amount=quote.amount,
                discount=quote.discount,
                total=quote.total,
                currency=quote.currency,
                coupon_id=checked.coupon.id if checked.coupon else None,
                coupon_code=checked.coupon.code if checked.coupon else None,
                provider=provider,
                reference=payment.reference if payment else None,
                client_secret=payment.client_secret if payment else None,
                checkout_url=self._checkout_url(order_id) if payment else None,
                expires_at=now + ORDER_HOLD,
                created_at=now,
                updated_at=now,
            )
            await uow.orders.add(order)
            await uow.audit.add(
                audit_entry("order_created", ORDER, order.id, actor, now, course_id=course_id, total=str(quote.total))
            )
            if quote.free:
                await self._settle(uow, order, checked.course, actor, now)
            await uow.commit()
        if order.status is OrderStatus.PAID:
            await self._send_receipt(order, checked.course)
        return Placed(order, created=True)

    async def _check(
        self, uow: CommerceUnitOfWork, actor: User, course_id: UUID, code: str | None, now: datetime, *, lock: bool
    ) -> _Checked:
        course = await uow.courses.get(course_id, lock=lock)  # locked as enrolling locks it, before the coupon
        if course is None or not catalog_rules.can_view(actor, course):
            raise NotFound(COURSE_NOT_FOUND)
        if not course.is_published:
            raise Forbidden(UNPUBLISHED)
        if not course.is_paid or course.price is None:
            raise InvalidInput(COURSE_IS_FREE)
        enrollment = await uow.enrollments.of_student(actor.id, course_id)
        if enrollment is not None and enrollment.status is not EnrollmentStatus.DROPPED:
            raise Conflict(ALREADY_ENROLLED)
        await refuse_missing_prerequisites(uow, course_id, actor.id)
        open_order = await uow.orders.open_for(actor.id, course_id, now)
        coupon = None
        terms = None
        if code is not None:
            coupon = await uow.coupons.by_code(code, lock=lock)
            if coupon is None or (coupon.course_id is not None and coupon.course_id != course_id):
                raise NotFound(COUPON_NOT_FOUND)
            if coupon.expired(now):
                raise InvalidInput(COUPON_EXPIRED)
            held = await uow.orders.held(coupon.id, now)
            if open_order is not None and open_order.coupon_id == coupon.id:
                held -= 1  # the buyer's own open order holds it: answered again, not taken twice
            if coupon.used_up(held):
                raise InvalidInput(COUPON_USED_UP)
            terms = coupon.terms
        return _Checked(course, coupon, money.quote(course.price, course.currency, terms), open_order)

    def _provider(self) -> Provider:
        if self.provider is None:
            raise Unavailable(NOT_CONFIGURED)
        return self.provider

    def _checkout_url(self, order_id: UUID) -> str:
        """The front end's page that completes the payment with the provider's script."""
        return f"{self.frontend_url.rstrip('/')}/checkout/{order_id}"

    # ----- Y2, Y3: reading -----

    async def list_orders(self, actor: User, params: PageParams, *, everyone: bool = False) -> Page[Order]:
        async with self.uow() as uow:
            owner = None if everyone and actor.role is Role.ADMIN else actor.id
            page = await uow.orders.page(params, buyer_id=owner)
        now = self.clock.now()
        for order in page.items:
            order.status = order.status_at(now)  # as shown; stored pending until paid or let go
        return page

    async def get_order(self, actor: User, order_id: UUID) -> Order:
        """The buyer's or, for admins, anyone's. A pending Stripe order is asked of the provider
        when its buyer reads it (the return from checkout): paid there, it is paid here at once,
        whether or not the provider's event has arrived yet."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None or (order.buyer_id != actor.id and actor.role is not Role.ADMIN):
            raise NotFound(ORDER_NOT_FOUND)
        if order.status is OrderStatus.PENDING and order.reference and self.payments is not None:
            try:
                paid = await self.payments.is_paid(order.reference)
            except Unavailable:
                paid = False  # the order as stored; the event will come
            if paid:
                return await self._paid(order_id, actor)
        order.status = order.status_at(self.clock.now())
        return order

    # ----- confirmations: Y5 (an admin), Y6 (the provider), the buyer's return -----

    async def mark_paid(self, actor: User, order_id: UUID) -> Order:
        return await self._paid(order_id, actor, _pending_manual)

    async def _paid(self, order_id: UUID, actor: User | None, check: Callable[[Order], None] | None = None) -> Order:
        """Settle the order, read locked and `check`ed first: a second confirmation waits for the
        first, then finds it paid and changes nothing (or is refused by `check`)."""
        now = self.clock.now()
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, lock=True)
            if order is None:
                raise NotFound(ORDER_NOT_FOUND)
            if check is not None:
                check(order)
            course = await self._settle_if_due(uow, order, actor, now)
            await uow.commit()
        if course is not None:
            await self._send_receipt(order, course)
        return order

    async def provider_event(self, payload: bytes, signature: str | None) -> None:
        """Y6: a signed event from the provider, processed once by its id, in the transaction of
        the order's change (and the enrollment's). Other event types are acknowledged and ignored."""
        if self.payments is None:
            raise NotFound(STRIPE_NOT_CONFIGURED)  # not a passing outage: nothing here takes its events
        event = self.payments.verify(payload, signature)
        now = self.clock.now()
        receipt: tuple[Order, Course] | None = None
        async with self.uow() as uow:
            if not await uow.payment_events.first_time(Provider.STRIPE, event.id, now):
                return
            order = await self._order_of(uow, event)
            if order is not None:
                if event.outcome is Outcome.PAID:
                    if (course := await self._settle_if_due(uow, order, None, now)) is not None:
                        receipt = (order, course)
                elif event.outcome is Outcome.REFUNDED and order.status is OrderStatus.PAID:
                    await self._refunded(uow, order, None, now, reason="refunded at the provider")
                elif event.outcome is Outcome.FAILED and order.status is OrderStatus.PENDING:
                    order.status = OrderStatus.FAILED  # a later success still pays it
                    order.updated_at = now
                    await uow.orders.save(order)
            await uow.commit()
        if receipt is not None:
            await self._send_receipt(*receipt)

    async def _order_of(self, uow: CommerceUnitOfWork, event: ProviderEvent) -> Order | None:
        order = await uow.orders.get(event.order_id, lock=True) if event.order_id else None
        if order is None and event.reference:
            order = await uow.orders.by_reference(Provider.STRIPE, event.reference, lock=True)
        if order is not None and event.reference and order.reference not in (None, event.reference):
            return None  # another payment than the order's: not ours to act on
        return order

    async def _settle_if_due(
        self, uow: CommerceUnitOfWork, order: Order, actor: User | None, now: datetime
    ) -> Course | None:
        """A confirmation of the order (read locked): settled unless it is paid already, or was
        refunded (a late confirmation of money given back changes nothing). The course when it was."""
        if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
            return None
        course = await uow.courses.get(order.course_id, lock=True)
        if course is not None:
            await self._settle(uow, order, course, actor, now)
        return course

    async def _settle(
        self, uow: CommerceUnitOfWork, order: Order, course: Course, actor: User | None, now: datetime
    ) -> None:
        """Paid: the order, its coupon's redemption, the enrollment (new, or active again) and the
        `order.paid` event, all in the caller's transaction."""
        order.status = OrderStatus.PAID
        order.paid_at = now
        order.updated_at = now
        await uow.orders.save(order)
        if order.coupon_id is not None:
            # Held since the order was made, so it fits; a payment that arrives after the hold
            # ended is honoured (the buyer was charged) even if the limit was reached meanwhile.
            await uow.coupons.redeem(order.coupon_id)
        await admit(uow, order.buyer_id, course, actor, now)
        await uow.outbox.add(order_event(order, ORDER_PAID, now))
        await uow.audit.add(audit_entry("order_paid", ORDER, order.id, actor, now, course_id=order.course_id))

    # ----- Y4: refunds -----

    async def refund(self, actor: User, order_id: UUID, reason: str | None = None) -> Order:
        """The whole payment back through the provider (with a key of the order's own, so a retry
        refunds once), then the order `refunded` and the enrollment `dropped`, its progress kept."""
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound(ORDER_NOT_FOUND)
        if order.status is not OrderStatus.PAID:
            raise Conflict(ONLY_PAID_REFUNDED)
        if order.provider is Provider.STRIPE and order.reference:
            if self.payments is None:
                raise Unavailable(NOT_CONFIGURED)
            await self.payments.refund(order.reference, idempotency_key=f"refund-{order.id}")
        now = self.clock.now()
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, lock=True)
            if order is None:
                raise NotFound(ORDER_NOT_FOUND)
            if order.status is not OrderStatus.PAID:
                raise Conflict(ONLY_PAID_REFUNDED)
            await self._refunded(uow, order, actor, now, reason=reason)
            course = await uow.courses.get(order.course_id)
            await uow.commit()
        buyer = await self.users.get(order.buyer_id)
        if buyer is not None:
            title = course.title if course is not None else "your course"
            await queue_email(self.queue, emails.refunded(buyer.email, buyer.full_name, title, order))
        return order

    async def _refunded(
        self, uow: CommerceUnitOfWork, order: Order, actor: User | None, now: datetime, *, reason: str | None
    ) -> None:
        order.status = OrderStatus.REFUNDED
        order.refunded_at = now
        order.refund_reason = reason
        order.updated_at = now
        await uow.orders.save(order)
        enrollment = await uow.enrollments.of_student(order.buyer_id, order.course_id, lock=True)
        if enrollment is not None and enrollment.status is not EnrollmentStatus.DROPPED:
            enrollment.drop(now)
            await uow.enrollments.save(enrollment)
        await uow.outbox.add(order_event(order, ORDER_REFUNDED, now))
        await uow.audit.add(
            audit_entry("order_refunded", ORDER, order.id, actor, now, course_id=order.course_id, reason=reason)
        )

    # ----- mail -----

    async def _send_receipt(self, order: Order, course: Course) -> None:
        buyer = await self.users.get(order.buyer_id)
        if buyer is not None:
            await queue_email(self.queue, emails.receipt(buyer.email, buyer.full_name, course.title, order))
