"""`/api/v1/orders` and `/api/v1/payments`: ordering a paid course, refunds, and the provider's
signed events (API §14 Y1-Y6)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, HeaderParameter, JSONBody, QueryParameter

from adapters.http.commerce.schemas import OrderCreate, OrderResponse, RefundBody
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import (
    BEARER,
    UuidPath,
    admin_only,
    authenticated,
    orders_of,
    parse_uuid,
    require_roles,
)
from domain.identity.model import Principal, Role
from domain.learning.services import ONLY_STUDENTS
from domain.shared.pagination import PageParams

student_or_admin = require_roles(Role.STUDENT, Role.ADMIN, detail=ONLY_STUDENTS)


class OrdersController(Controller):
    path = "/orders"
    tags = ["orders"]
    guards = [authenticated]
    security = BEARER

    @post(
        "/",
        operation_id="create_order",
        status_code=201,
        guards=[student_or_admin],
        responses={
            200: ResponseSpec(
                data_container=OrderResponse,
                description="The caller's open order for the course with the same coupon, again",
            ),
            **errors(401, 403, 404, 409, 422, 429, 503),
        },
    )
    async def create_order(
        self, *, request: Request[Any, Any, Any], data: JSONBody[OrderCreate], principal: NamedDependency[Principal]
    ) -> Response[OrderResponse]:
        """Order a paid course: `201` with a pending order and its `checkout_url` (Stripe), or
        `status=paid` at once (and the enrollment made) when a coupon brings the total to zero."""
        placed = await orders_of(request).place(principal.user, data.course_id, data.coupon_code)
        headers = {"Location": f"/api/v1/orders/{placed.order.id}"} if placed.created else None
        return Response(OrderResponse.of(placed.order), status_code=201 if placed.created else 200, headers=headers)

    @get("/", operation_id="list_orders", responses=errors(401, 403, 422, 429))
    async def list_orders(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        all_orders: Annotated[
            bool, QueryParameter(name="all", description="Admins: every buyer's orders, not only their own")
        ] = False,
    ) -> Response[PageResponse[OrderResponse]]:
        """The caller's orders, newest first (admins with `all=true`: everyone's)."""
        page = await orders_of(request).list_orders(principal.user, paging, everyone=all_orders)
        viewer = principal.user.id
        return page_response(request, page, lambda order: OrderResponse.of(order, buyer_view=order.buyer_id == viewer))

    @get("/{order_id:str}", operation_id="get_order", responses=errors(401, 404, 422, 429))
    async def get_order(
        self, *, request: Request[Any, Any, Any], order_id: UuidPath, principal: NamedDependency[Principal]
    ) -> OrderResponse:
        """One order (its buyer, or an admin). A pending one is checked with the provider first, so
        the buyer's return from checkout shows it paid even before the provider's event arrives."""
        order = await orders_of(request).get_order(principal.user, parse_uuid("order_id", order_id))
        return OrderResponse.of(order, buyer_view=order.buyer_id == principal.user.id)

    @post(
        "/{order_id:str}/refund",
        operation_id="refund_order",
        status_code=200,
        guards=[admin_only],
        responses=errors(401, 403, 404, 409, 422, 429, 503),
    )
    async def refund_order(
        self,
        *,
        request: Request[Any, Any, Any],
        order_id: UuidPath,
        principal: NamedDependency[Principal],
        data: Annotated[RefundBody | None, Body()] = None,
    ) -> OrderResponse:
        """Give the whole payment back (admins): the order becomes `refunded` and the buyer's
        enrollment `dropped`, its progress kept."""
        reason = data.reason if data is not None else None
        order = await orders_of(request).refund(principal.user, parse_uuid("order_id", order_id), reason)
        return OrderResponse.of(order, buyer_view=False)

    @post(
        "/{order_id:str}/mark-paid",
        operation_id="mark_order_paid",
        status_code=200,
        guards=[admin_only],
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def mark_paid(
        self, *, request: Request[Any, Any, Any], order_id: UuidPath, principal: NamedDependency[Principal]
    ) -> OrderResponse:
        """Mark a pending order of manual payments paid (admins; an invoice settled outside): the
        buyer is enrolled in the same transaction."""
        order = await orders_of(request).mark_paid(principal.user, parse_uuid("order_id", order_id))
        return OrderResponse.of(order, buyer_view=False)


class PaymentsController(Controller):
    path = "/payments"
    tags = ["payments"]

    @post(
        "/stripe/webhook",
        operation_id="receive_stripe_event",
        status_code=200,
        security=[],
        responses=errors(404, 422),  # never rate-limited (the signature is checked first)
    )
    async def stripe_event(
        self,
        *,
        request: Request[Any, Any, Any],
        stripe_signature: Annotated[
            str | None, HeaderParameter(name="Stripe-Signature", description="Stripe's signature of the body")
        ] = None,
    ) -> None:
        """Stripe's signed events (point the Stripe webhook endpoint here). Each event is processed
        once by its id; a payment's success enrolls the buyer in the transaction that marks the
        order paid. Unknown types are acknowledged and ignored. `400 Invalid signature` for a
        forged, altered or replayed (over 5 minutes old) event; `404` when Stripe is not the
        configured provider."""
        await orders_of(request).provider_event(await request.body(), stripe_signature)
