"""Bodies of the inbox and preference routes (API §13)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from adapters.http.bodies import response_of
from domain.notifications.model import Channel, Notification, NotificationType, Preferences


class NotificationResponse(msgspec.Struct, kw_only=True):
    id: UUID
    type: NotificationType
    title: str
    body: str
    data: Annotated[dict[str, Any], Meta(description="The event's data (ids and times as strings)")]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> NotificationResponse:
        return response_of(cls, notification)


class UnreadCount(msgspec.Struct, kw_only=True):
    count: int


Kinds = Annotated[
    dict[str, bool],
    Meta(
        description="Notification type → on; a type left out is on (any other name is `400 Unknown notification type`)",
        examples=[{"lesson.published": False}],
        extra_json_schema={"properties": {kind.value: {"type": "boolean"} for kind in NotificationType}},
    ),
]


class NotificationPreferencesBody(msgspec.Struct, kw_only=True):
    """Which kinds reach you by email and in the app; a `PUT` replaces them all (a type left out is
    on). Security emails (password resets, codes, verification, lockouts) are always sent."""

    email: Kinds = msgspec.field(default_factory=dict)
    in_app: Kinds = msgspec.field(default_factory=dict)

    def maps(self) -> dict[Channel, dict[str, bool]]:
        return {Channel.EMAIL: self.email, Channel.IN_APP: self.in_app}

    @classmethod
    def of(cls, preferences: Preferences) -> NotificationPreferencesBody:
        maps = preferences.as_maps()
        return cls(
            email={kind.value: on for kind, on in maps[Channel.EMAIL].items()},
            in_app={kind.value: on for kind, on in maps[Channel.IN_APP].items()},
        )


class WsTicket(msgspec.Struct, kw_only=True):
    ticket: Annotated[str, Meta(description="Connect with `/api/v1/ws?ticket=<ticket>`; good once")]
    expires_in: Annotated[int, Meta(description="Seconds it stays good", examples=[30])]
