"""Litestar's Redis pub/sub channels backend, made to survive Redis going away.

Pub/sub keeps nothing: whatever is published while a subscriber is cut off is gone. So a lost
connection is not papered over by a silent reconnect; the hub is told (`on_break`), ends every live
connection with a code that says "reconnect", and clients come back with `Last-Event-ID`, replayed
from the inbox. Meanwhile this backend waits for Redis, subscribes again to the channels still
wanted, and carries on. A publish while Redis is down is dropped (the inbox holds the notification).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger("lms.live")

_DOWN = (RedisError, OSError)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class ResilientRedisPubSub(RedisChannelsPubSubBackend):
    def __init__(self, url: str, *, on_break: Callable[[], None], retry_every: float = 0.5) -> None:
        # No silent retries: a dropped connection must surface as one, so that clients are told.
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=2.0, health_check_interval=5, retry=Retry(NoBackoff(), 0)
        )
        super().__init__(redis=client, key_prefix="lms:live")
        self._on_break = on_break
        self._retry_every = retry_every
        self._wanted: set[str] = set()
        self._pubsub: PubSub | None = None
        self._healthy = True
        self._one_at_a_time = asyncio.Lock()  # (un)subscriptions on the one connection, in turn

    @property
    def _pub_sub(self) -> PubSub:  # the parent's methods read this: one we can replace
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        return self._pubsub

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def on_shutdown(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(*_DOWN):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._wanted.update(channels)
        await self._change(super().subscribe, channels)
        self._has_subscribed.set()  # when broken too: the stream wakes, and renews the connection

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._wanted.difference_update(channels)
        await self._change(super().unsubscribe, channels)

    async def _change(self, change: Callable[[list[str]], Awaitable[None]], channels: list[str]) -> None:
        """One (un)subscription at a time, while the connection stands (a failure breaks it).
        Serialised: the first callers would otherwise each open a pub/sub connection of their own
        (it connects lazily), and the channels subscribed on the ones dropped would never be heard."""
        async with self._one_at_a_time:
            if self._healthy:
                try:
                    await change(channels)
                except _DOWN:
                    self._broke()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await self.publish_batch([(data, channel) for channel in channels])

    async def publish_batch(self, messages: list[tuple[bytes, str]]) -> None:
        """Each message to its channel, in order, in one round trip (a publish each would queue
        the messages behind one another's round trips under load)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for data, channel in messages:
                    pipe.publish(channel, data)
                await pipe.execute()
        except _DOWN:
            log.warning(
                "%d live messages dropped: Redis unreachable (clients replay them from their inbox)", len(messages)
            )
            self._broke()

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                async for event in self._events():
                    yield event
            except _DOWN:
                if _being_cancelled():  # the client turned our cancellation into an error
                    raise asyncio.CancelledError from None
                self._broke()
            await self._renew()

    async def _events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """The messages of the channels still wanted, until the connection breaks (a failed
        subscribe or publish breaks it too: it is then renewed)."""
        while self._healthy:
            await self._has_subscribed.wait()
            message = await self._pub_sub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            channel: str = message["channel"].decode()
            if channel in self._wanted:  # one being unsubscribed may still deliver a last message
                yield channel, message["data"]

    def _broke(self) -> None:
        if self._healthy:
            self._healthy = False
            log.warning("live fan-out lost Redis: ending live connections so clients reconnect and replay")
            self._on_break()

    async def _renew(self) -> None:
        """Wait for Redis, then a fresh pub/sub connection subscribed to the channels still wanted."""
        old, self._pubsub = self._pubsub, None
        if old is not None:
            with contextlib.suppress(*_DOWN):
                await old.aclose()  # type: ignore[no-untyped-call]
        while True:
            try:
                await self._redis.ping()
                async with self._one_at_a_time:
                    if self._wanted:
                        await self._pub_sub.subscribe(*self._wanted)
                break
            except _DOWN:
                if self._pubsub is not None:
                    self._pubsub = None
                await asyncio.sleep(self._retry_every)
        self._healthy = True
        log.info("live fan-out reconnected to Redis")
