"""The live transports (API §13): the WebSocket at `/api/v1/ws` (a ticket, the user's notifications
and the course feeds they manage) and Server-Sent Events at `/api/v1/notifications/stream` (the
user's notifications). Both send `{id, type, created_at, data}` messages, and both replay what a
reconnecting client missed after the notification id it names."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, WebSocket, get, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import HeaderParameter
from litestar.response import ServerSentEventMessage

from adapters.http.notifications.event_stream import LiveEventStream
from adapters.http.openapi import errors
from adapters.http.security import (
    SIGNED_IN,
    Connection,
    course_feeds_of,
    inbox_of,
    live_of,
    sign_in_of,
    tickets_of,
)
from adapters.live.hub import Ending, LiveConnection, LiveHub
from domain.identity.model import Principal
from domain.notifications.live import CourseFeeds, of_notification
from domain.shared.errors import DomainError, FieldError, FieldsInvalid, Unauthenticated, Unavailable
from domain.shared.live import LiveHolder

HEARTBEAT_SECONDS = 15.0
RECONNECT_MS = 2_000  # what an EventSource waits before it reconnects
MAX_FOLLOWED = 50  # course feeds one socket may follow

# WebSocket close codes: 4401 the ticket or its sign-in is no good (get a new one); 4400 a
# malformed `last_event_id`; 1012 reconnect (the fan-out restarted or this process is stopping:
# come back with `last_event_id`); 1013 not now (try again shortly); 1008 fell too far behind.
CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_RECONNECT = 1012
CLOSE_TRY_LATER = 1013
CLOSE_TOO_SLOW = 1008
ENDINGS = {
    Ending.REVOKED: (CLOSE_UNAUTHORIZED, "Sign-in revoked"),
    Ending.RECONNECT: (CLOSE_RECONNECT, "Reconnect with last_event_id"),
    Ending.SHUTDOWN: (CLOSE_RECONNECT, "Server restarting: reconnect with last_event_id"),
    Ending.TOO_SLOW: (CLOSE_TOO_SLOW, "Too far behind: reconnect with last_event_id"),
}
LAST_EVENT_ID_INVALID = "Last-Event-ID must be a notification id"
NOT_ACCEPTING = "Live updates are reconnecting; try again shortly"


def _last_seen(value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise FieldsInvalid(LAST_EVENT_ID_INVALID, [FieldError("header.Last-Event-ID", "Invalid UUID")]) from None


def _id_of(message: bytes) -> str:
    """The id of a message as encoded (`{"id":"<uuid>",…`), without decoding it all."""
    return message[7:43].decode()


async def _replayed(connection: Connection, user_id: UUID, last_seen: UUID | None) -> list[tuple[str, bytes]]:
    if last_seen is None:
        return []
    missed = await inbox_of(connection).missed(user_id, last_seen)
    encode = msgspec.json.encode
    return [(str(n.id), encode(of_notification(n))) for n in missed]


# ----------------------------------------------------------------------------- WebSocket


def _refusal(exc: DomainError) -> tuple[int, str]:
    """The close code and reason a socket is refused with."""
    if isinstance(exc, Unauthenticated):
        return CLOSE_UNAUTHORIZED, exc.detail
    if isinstance(exc, FieldsInvalid):
        return CLOSE_BAD_REQUEST, LAST_EVENT_ID_INVALID
    return CLOSE_TRY_LATER, NOT_ACCEPTING


@websocket("/ws", name="live_socket")
async def live_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """The live WebSocket (described in the README: OpenAPI cannot describe one)."""
    await socket.accept()
    hub = live_of(socket)
    try:
        ticketed = await tickets_of(socket).redeem(socket.query_params.get("ticket"))
        if ticketed is None:
            raise Unauthenticated("Invalid or expired ticket")
        if not hub.accepting:
            raise Unavailable(NOT_ACCEPTING)
    except (Unauthenticated, Unavailable) as exc:
        await socket.close(*_refusal(exc))
        return
    claims = ticketed.claims
    # Listening before the recheck: a revocation published from here on reaches the connection,
    # and one published before fails the recheck (checked first, it could fall in between).
    async with hub.connect(LiveHolder(claims.sub, claims.jti, claims.sid)) as connection:
        try:
            principal = await sign_in_of(socket).recheck(claims, via=ticketed.via)
            last_seen = _last_seen(socket.query_params.get("last_event_id"))
        except (Unauthenticated, FieldsInvalid, Unavailable) as exc:
            await socket.close(*_refusal(exc))
            return
        await _LiveSocket(socket, connection, principal, hub, course_feeds_of(socket)).serve(last_seen)


@dataclass(slots=True)
class _LiveSocket:
    socket: WebSocket[Any, Any, Any]
    connection: LiveConnection
    principal: Principal
    hub: LiveHub
    feeds: CourseFeeds

    async def serve(self, last_seen: UUID | None) -> None:
        replay = await _replayed(self.socket, self.principal.user.id, last_seen)
        sending = asyncio.create_task(self._send(replay))
        try:
            await self._listen(sending)
        finally:
            if not sending.done():
                sending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sending
        # Closed here, with no receive pending (a server may wait for one before it closes).
        ending = sending.result() if sending.done() and not sending.cancelled() and not sending.exception() else None
        if ending is not None:
            code, reason = ENDINGS[ending]
            with contextlib.suppress(Exception):
                await self.socket.close(code, reason)

    async def _send(self, replay: list[tuple[str, bytes]]) -> Ending | None:
        """Send until the connection ends; why it ended (None: the client went)."""
        sent = {message_id for message_id, _ in replay}
        for _, replayed in replay:
            await self.socket.send_text(replayed.decode())
        while True:
            message = await self.connection.next()
            if message is None:
                if self.connection.ended is not None:
                    return self.connection.ended
                continue
            if sent and _id_of(message) in sent:  # replayed already (it came while the replay was read)
                continue
            await self.socket.send_text(message.decode())

    async def _listen(self, sending: asyncio.Task[Ending | None]) -> None:
        """What the client says: `{"subscribe": "course:<id>"}`. Ends when it goes, or when sending ends."""
        while not sending.done():
            receiving = asyncio.ensure_future(self.socket.receive_data("text"))
            await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await receiving
                return
            try:
                text = receiving.result()
            except (WebSocketDisconnect, RuntimeError):
                return
            await self.socket.send_text(await self._answer(text))

    async def _answer(self, text: str) -> str:
        try:
            said = msgspec.json.decode(text)
        except msgspec.DecodeError:
            said = None
        channel = said.get("subscribe") if isinstance(said, dict) else None
        encode = msgspec.json.encode
        if not isinstance(channel, str) or len(channel) > 100:
            return encode({"error": "bad_request", "detail": 'Send {"subscribe": "course:<id>"}'}).decode()
        if channel in self.connection.following:
            return encode({"subscribed": channel}).decode()
        if len(self.connection.following) >= MAX_FOLLOWED:
            return encode({"error": "too_many", "channel": channel}).decode()
        if not await self.feeds.may_follow(self.principal.user, channel):
            return encode({"error": "forbidden", "channel": channel}).decode()
        await self.hub.follow(self.connection, channel)
        return encode({"subscribed": channel}).decode()


# ----------------------------------------------------------------------------- Server-Sent Events


@get(
    "/notifications/stream",
    operation_id="stream_notifications",
    tags=["notifications"],
    **SIGNED_IN,
    responses=errors(401, 422, 429, 503),
    media_type="text/event-stream",
)
async def stream_notifications(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            required=False,
            description="The id of the last message received: what came after it is sent first "
            "(at most 100, of the last 24 hours)",
        ),
    ] = None,
) -> LiveEventStream:
    """Your new notifications as Server-Sent Events: `id:` is the notification id, `data:` the
    message JSON `{id, type, created_at, data}`, a comment line every 15 seconds keeps the stream
    open. Reconnecting with `Last-Event-ID` replays what was missed."""
    last_seen = _last_seen(last_event_id or request.query_params.get("last_event_id"))
    hub = live_of(request)
    if not hub.accepting:
        raise Unavailable(NOT_ACCEPTING)
    events = _events(request, hub, principal, last_seen)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return LiveEventStream(events, retry_duration=RECONNECT_MS, headers=headers)


async def _still_signed_in_replay(
    request: Request[Any, Any, Any], principal: Principal, last_seen: UUID | None
) -> list[tuple[str, bytes]]:
    await sign_in_of(request).recheck(principal.claims, via=principal.via)
    return await _replayed(request, principal.user.id, last_seen)


async def _events(
    request: Request[Any, Any, Any], hub: LiveHub, principal: Principal, last_seen: UUID | None
) -> AsyncIterator[ServerSentEventMessage]:
    claims = principal.claims
    # Listening first: a revocation published from here on reaches the stream, one published since
    # the request was authenticated fails the recheck, and nothing falls between replay and live.
    async with hub.connect(LiveHolder(principal.user.id, claims.jti, claims.sid)) as connection:
        try:  # shielded: a client that leaves cancels the stream, and a read is not cut midway
            replay = await asyncio.shield(_still_signed_in_replay(request, principal, last_seen))
        except Unauthenticated:
            return  # revoked meanwhile: the stream ends, as a revocation ends it
        yield ServerSentEventMessage(data=None, comment="connected")
        sent = {message_id for message_id, _ in replay}
        for message_id, message in replay:
            yield ServerSentEventMessage(data=message.decode(), id=message_id)
        while True:
            live = await connection.next(HEARTBEAT_SECONDS)
            if live is None:
                if connection.ended is not None:
                    return  # revoked: the reconnection is refused; otherwise it replays
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                continue
            message_id = _id_of(live)
            if message_id not in sent:
                yield ServerSentEventMessage(data=live.decode(), id=message_id)
