"""Bodies of the webhook delivery routes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from adapters.http.bodies import response_of
from domain.integrations.model import Delivery, DeliveryStatus


class WebhookDeliveryResponse(msgspec.Struct, kw_only=True):
    id: UUID
    event_id: UUID
    event_type: str
    target_url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDeliveryResponse:
        return response_of(cls, delivery)
