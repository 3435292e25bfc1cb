"""The live hub on each fan-out backend (process memory, Redis pub/sub): what is published to a
user's channel reaches every connection of that user, however many connect at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from adapters.live.hub import LiveHub
from domain.shared.live import LiveHolder, user_channel
from domain.shared.telemetry import NullMeter
from tests.support.servers import flush


@pytest.fixture(params=["memory", "redis"])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[LiveHub]:
    url = None
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        await flush(url)
    live = LiveHub(url, NullMeter())
    await live.start()
    yield live
    await live.close()


async def test_connections_opened_at_once_on_a_fresh_hub_all_hear_their_users(
    hub: LiveHub, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if "redis" in request.node.callspec.id else None
    # A deploy restarts a process and its clients reconnect together: the first subscriptions race
    # for the backend's connection, and none may be lost.
    holders = [LiveHolder(uuid4(), uuid4(), None) for _ in range(200)]
    async with contextlib.AsyncExitStack() as stack:
        connections = await asyncio.gather(*(stack.enter_async_context(hub.connect(h)) for h in holders))
        await asyncio.sleep(0.2)  # subscriptions reach the backend
        for holder in holders:
            hub.publish(user_channel(holder.user_id), {"id": str(holder.user_id), "type": "t"})
        heard = await asyncio.gather(*(c.next(timeout=5) for c in connections))
    assert [m and m[7:43].decode() for m in heard] == [str(h.user_id) for h in holders]
    assert hub.open_connections == 0
    if redis_url is not None:  # and the backend let go of every channel it subscribed to
        client = aioredis.Redis.from_url(redis_url)
        try:
            for _ in range(50):
                counts = await client.pubsub_numsub(*(user_channel(h.user_id) for h in holders))
                if all(n == 0 for _, n in counts):
                    break
                await asyncio.sleep(0.02)
            assert all(n == 0 for _, n in counts)
        finally:
            await client.aclose()
