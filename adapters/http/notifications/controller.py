"""`/api/v1/notifications` and `/api/v1/users/me/notification-preferences`: each user's inbox and
what reaches them (API §13)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from adapters.http.notifications.schemas import NotificationPreferencesBody, NotificationResponse, UnreadCount, WsTicket
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import SIGNED_IN, UuidPath, inbox_of, parse_uuid, tickets_of
from domain.identity.model import Principal
from domain.notifications.tickets import TICKET_SECONDS
from domain.shared.pagination import PageParams


class NotificationsController(Controller):
    path = "/notifications"
    tags = ["notifications"]

    @get("/", operation_id="list_notifications", **SIGNED_IN, responses=errors(401, 422, 429))
    async def list_notifications(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        unread_only: Annotated[bool, QueryParameter(description="Only the notifications not read yet")] = False,
    ) -> Response[PageResponse[NotificationResponse]]:
        """Your notifications, newest first."""
        page = await inbox_of(request).notifications(principal.user, unread_only=unread_only, params=paging)
        return page_response(request, page, NotificationResponse.of)

    @get("/unread-count", operation_id="count_unread_notifications", **SIGNED_IN, responses=errors(401, 429))
    async def unread_count(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> UnreadCount:
        """How many of your notifications are not read yet."""
        return UnreadCount(count=await inbox_of(request).unread_count(principal.user))

    @post("/read-all", operation_id="read_all_notifications", status_code=204, **SIGNED_IN, responses=errors(401, 429))
    async def read_all(self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> None:
        """Mark every notification of yours read."""
        await inbox_of(request).mark_all_read(principal.user)

    @post(
        "/{notification_id:str}/read",
        operation_id="read_notification",
        status_code=204,
        **SIGNED_IN,
        responses=errors(401, 404, 422, 429),
    )
    async def read(
        self, *, request: Request[Any, Any, Any], notification_id: UuidPath, principal: NamedDependency[Principal]
    ) -> None:
        """Mark one notification read (one read already stays as it was)."""
        await inbox_of(request).mark_read(principal.user, parse_uuid("notification_id", notification_id))

    @delete(
        "/{notification_id:str}", operation_id="delete_notification", **SIGNED_IN, responses=errors(401, 404, 422, 429)
    )
    async def delete_notification(
        self, *, request: Request[Any, Any, Any], notification_id: UuidPath, principal: NamedDependency[Principal]
    ) -> None:
        """Delete one of your notifications."""
        await inbox_of(request).delete(principal.user, parse_uuid("notification_id", notification_id))


class NotificationPreferencesController(Controller):
    path = "/users/me/notification-preferences"
    tags = ["notifications"]

    @get("/", operation_id="get_notification_preferences", **SIGNED_IN, responses=errors(401, 429))
    async def get_preferences(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> NotificationPreferencesBody:
        """Which kinds reach you, by email and in the app: every type, each on or off."""
        return NotificationPreferencesBody.of(await inbox_of(request).preferences(principal.user))

    @put("/", operation_id="set_notification_preferences", **SIGNED_IN, responses=errors(400, 401, 422, 429))
    async def set_preferences(
        self,
        *,
        request: Request[Any, Any, Any],
        data: JSONBody[NotificationPreferencesBody],
        principal: NamedDependency[Principal],
    ) -> NotificationPreferencesBody:
        """Replace your preferences: a type you leave out is on. An unknown type is `400`."""
        preferences = await inbox_of(request).set_preferences(principal.user, data.maps())
        return NotificationPreferencesBody.of(preferences)


class WebSocketTicketController(Controller):
    path = "/auth/ws-ticket"
    tags = ["notifications"]

    @post("/", operation_id="create_ws_ticket", status_code=200, **SIGNED_IN, responses=errors(401, 429))
    async def create_ticket(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> WsTicket:
        """A ticket to open the live WebSocket with (`/api/v1/ws?ticket=`): good once, for 30 seconds,
        for the sign-in that asked for it."""
        ticket = await tickets_of(request).issue(principal)
        return WsTicket(ticket=ticket, expires_in=TICKET_SECONDS)
