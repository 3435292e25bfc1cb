"""The live hub (API §13): Litestar's channels plugin carrying messages between processes, and the
connections of this process that listen to it.

A connection listens to its user's channel, and to the course feeds it was allowed to follow. It
ends when its sign-in is revoked (a control message on the user's channel), when the fan-out loses
its backend (clients reconnect and replay what they missed), or when the process stops.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.subscriber import Subscriber

from adapters.live.redis_pubsub import ResilientRedisPubSub
from domain.shared.live import CONTROL, LiveHolder, user_channel
from domain.shared.telemetry import Meter

log = logging.getLogger("lms.live")

_CONTROL_PREFIX = b'{"' + CONTROL.encode() + b'"'
BACKLOG = 1_000  # messages a slow connection may fall behind by before it is ended
CLOSE_SECONDS = 5.0  # the longest a closing hub waits on its backend


class Ending(enum.Enum):
    """Why a connection ends, as the transports say it."""

    REVOKED = "revoked"  # its sign-in was revoked or its user deactivated
    RECONNECT = "reconnect"  # the fan-out lost its backend: come back and replay
    SHUTDOWN = "shutdown"  # this process is stopping
    TOO_SLOW = "too_slow"  # fell more than BACKLOG messages behind


class Mailbox:
    """A connection's queue, in what an idle one costs: no deque until a message comes, and while
    it waits one future (an `asyncio.Queue` holds three deques and an event; `wait_for` a task).
    Speaks the part of the queue protocol Litestar's subscriber uses."""

    __slots__ = ("_items", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._items: collections.deque[bytes | None] | None = None
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: bytes | None) -> None:
        if self._items is not None and len(self._items) >= self._limit:
            raise asyncio.QueueFull
        self._append(item)

    async def put(self, item: bytes | None) -> None:
        """As `put_nowait`; the end of the stream (None, when the subscriber is let go) is never
        refused for room."""
        if item is None:
            self._append(None)
        else:
            self.put_nowait(item)

    def _append(self, item: bytes | None) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self, timeout: float | None = None) -> bytes | None:
        """The next item; None also when `timeout` seconds pass first."""
        if not self._items:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter) if timeout is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not self._items:
                return None
        return self._items.popleft()

    def task_done(self) -> None:
        """Nothing waits for the queue to be drained."""


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class LiveConnection(Subscriber):
    """One client's stream: the messages of its channels, in order, until it ends."""

    holder: LiveHolder
    ended: Ending | None
    following: dict[str, Subscriber]  # the course feeds it follows, by channel
    _queue: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue = Mailbox(BACKLOG)

    async def next(self, timeout: float | None = None) -> bytes | None:
        """The next message to send; None when `timeout` seconds passed without one or the
        connection ended (`ended` says why). Control messages are acted on here, never returned."""
        while self.ended is None:
            item: bytes | None = await self._queue.get(timeout)
            if item is None:
                return None
            if item.startswith(_CONTROL_PREFIX):
                if self.holder.revoked_by(msgspec.json.decode(item)):
                    self.ended = Ending.REVOKED
                continue
            return item
        return None

    def end(self, why: Ending) -> None:
        if self.ended is None:
            self.ended = why
        self.put_nowait(None)  # wakes a waiting `next`

    def put_nowait(self, item: bytes | None) -> bool:
        if super().put_nowait(item):
            return True
        if item is not None:  # the queue is full: this client cannot keep up
            self.ended = self.ended or Ending.TOO_SLOW
        return False


class LiveHub:
    """`redis_url` set: messages go through Redis pub/sub, reaching every process; unset: through
    process memory (one process serves everyone)."""

    def __init__(self, redis_url: str | None, meter: Meter) -> None:
        backend: ChannelsBackend
        self._send_batch: Callable[[list[tuple[bytes, str]]], Awaitable[None]]
        if redis_url:
            redis = ResilientRedisPubSub(redis_url, on_break=self._backend_lost)
            backend, self._send_batch = redis, redis.publish_batch
        else:
            backend, self._send_batch = MemoryChannelsBackend(), self._publish_each
        self._backend = backend
        self._plugin = ChannelsPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            subscriber_class=LiveConnection,
            subscriber_max_backlog=BACKLOG,
            subscriber_backlog_strategy="backoff",
        )
        self._open: set[LiveConnection] = set()
        self._started = False
        self._outgoing: list[tuple[bytes, str]] = []  # (message, channel), not yet handed to the backend
        self._wake = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None
        self._published = meter.counter("lms_live_messages")

    @property
    def accepting(self) -> bool:
        """Whether a new connection can be served (not while the fan-out is cut off: it would miss
        what is published until it is back)."""
        return self._started and getattr(self._backend, "healthy", True)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def start(self) -> None:
        if not self._started:
            await self._plugin.__aenter__()
            self._wake = asyncio.Event()
            self._publisher = asyncio.create_task(self._publish_forever())
            self._started = True

    async def close(self) -> None:
        if not self._started:
            return
        self._started = False
        for connection in list(self._open):
            connection.end(Ending.SHUTDOWN)
        await asyncio.sleep(0)  # let the transports say goodbye
        # Bounded: a process that stops does not wait on its fan-out for longer than this. The
        # publisher sends what is queued and returns by itself (a cancellation that reached a
        # Redis client mid-command could come back as a connection error, and be lost).
        if self._publisher is not None:
            self._wake.set()
            await self._bounded(self._publisher, "publishing the last live messages")
        await self._bounded(self._plugin.__aexit__(None, None, None), "stopping the live fan-out")

    @staticmethod
    async def _bounded(work: Awaitable[Any], what: str) -> None:
        try:
            await asyncio.wait_for(work, timeout=CLOSE_SECONDS)
        except TimeoutError:
            log.warning("%s took longer than %.0f s; left behind", what, CLOSE_SECONDS)
        except Exception:  # the backend is gone: nothing is left to let go of
            log.debug("%s failed", what, exc_info=True)

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue a message for a channel; what was queued meanwhile goes to the backend together."""
        if self._started:
            self._published.inc()
            self._outgoing.append((msgspec.json.encode(message), channel))
            self._wake.set()

    async def _publish_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._send_outgoing()
            if not self._started and not self._outgoing:  # closing, and what was queued is sent
                return

    async def _send_outgoing(self) -> None:
        batch, self._outgoing = self._outgoing, []
        if not batch:
            return
        try:
            await self._send_batch(batch)
        except Exception:  # a message lost here is still in its user's inbox
            log.exception("live messages not published")

    async def _publish_each(self, batch: list[tuple[bytes, str]]) -> None:
        """In process memory there is no round trip to save: one publish each."""
        for data, channel in batch:
            await self._backend.publish(data, [channel])

    @contextlib.asynccontextmanager
    async def connect(self, holder: LiveHolder) -> AsyncIterator[LiveConnection]:
        """A connection listening to the holder's own channel until the block ends; everything it
        held is let go then."""
        connection = await self._plugin.subscribe(user_channel(holder.user_id))
        assert isinstance(connection, LiveConnection)
        connection.holder, connection.ended, connection.following = holder, None, {}
        self._open.add(connection)
        try:
            yield connection
        finally:
            self._open.discard(connection)
            for followed in connection.following.values():
                await self._quietly(self._plugin.unsubscribe, followed)
            await self._quietly(self._plugin.unsubscribe, connection)

    async def follow(self, connection: LiveConnection, channel: str) -> None:
        """Add a channel to the connection's stream (a course feed it may follow)."""
        feed = await self._plugin.subscribe(channel)
        assert isinstance(feed, LiveConnection)
        feed.ended = None
        connection.following[channel] = feed

        async def forward(item: bytes) -> None:
            connection.put_nowait(item)

        feed._start_in_background(forward)

    def _backend_lost(self) -> None:
        for connection in list(self._open):
            connection.end(Ending.RECONNECT)

    @staticmethod
    async def _quietly(unsubscribe: Callable[..., Any], subscriber: Subscriber) -> None:
        try:
            await unsubscribe(subscriber)
        except Exception:  # the backend is gone: nothing is held there any more
            log.debug("unsubscribing from a lost backend", exc_info=True)
