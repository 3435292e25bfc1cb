"""`/api/v1/webhooks/deliveries`: what operators see of webhook delivery, and a manual retry."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from adapters.http.integrations.schemas import WebhookDeliveryResponse
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, admin_only, authenticated, parse_uuid, webhooks_of
from domain.identity.model import Principal
from domain.integrations.model import DeliveryFilter, DeliveryStatus, EventType
from domain.shared.pagination import PageParams


class WebhookDeliveriesController(Controller):
    path = "/webhooks/deliveries"
    tags = ["webhooks"]
    guards = [authenticated, admin_only]
    security = BEARER

    @get("/", operation_id="list_webhook_deliveries", responses=errors(401, 403, 422, 429))
    async def list_deliveries(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        status: Annotated[DeliveryStatus | None, QueryParameter(description="Only deliveries in this state")] = None,
        event_type: Annotated[
            EventType | None, QueryParameter(description="Only deliveries of this event type")
        ] = None,
    ) -> Response[PageResponse[WebhookDeliveryResponse]]:
        """Webhook deliveries, newest first (admins): one per event and target, with the attempts made,
        the next one planned, and the last answer or error."""
        page = await webhooks_of(request).list_deliveries(principal.user, DeliveryFilter(status, event_type), paging)
        return page_response(request, page, WebhookDeliveryResponse.of)

    @post(
        "/{delivery_id:str}/retry",
        operation_id="retry_webhook_delivery",
        status_code=200,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def retry(
        self, *, request: Request[Any, Any, Any], delivery_id: UuidPath, principal: NamedDependency[Principal]
    ) -> WebhookDeliveryResponse:
        """Send a `failed` delivery again (admins): it goes back to `pending`, due now, with a fresh retry
        schedule. Any other state is a `409`."""
        delivery = await webhooks_of(request).retry_delivery(principal.user, parse_uuid("delivery_id", delivery_id))
        return WebhookDeliveryResponse.of(delivery)
