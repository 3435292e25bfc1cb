"""The key-value port on Redis, shared by every API process; connection failures surface as
KeyValueUnavailable so callers decide whether to fail open or closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.shared.ports import KeyValueUnavailable, WindowHit

# INCR, start the window on the first hit, and report the time left, in one round trip.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisKeyValue:
    def __init__(self, url: str, *, prefix: str = "lms:", timeout: float = 1.0) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)

    def _k(self, key: str) -> str:
        return self._prefix + key

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            raise KeyValueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc

    async def get(self, key: str) -> str | None:
        async with self._guard():
            value = await self._redis.get(self._k(key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        async with self._guard():
            await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        async with self._guard():
            return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    async def pop(self, key: str) -> str | None:
        async with self._guard():
            value = await self._redis.getdel(self._k(key))
        return None if value is None else str(value)

    async def delete(self, *keys: str) -> None:
        if keys:
            async with self._guard():
                await self._redis.delete(*(self._k(k) for k in keys))

    async def exists(self, *keys: str) -> int:
        async with self._guard():
            return int(await self._redis.exists(*(self._k(k) for k in keys)))

    async def hit(self, key: str, window: float) -> WindowHit:
        async with self._guard():
            count, ttl_ms = await self._hit(keys=[self._k(key)], args=[max(1, int(window * 1000))])
        return WindowHit(count=int(count), reset_after=int(ttl_ms) / 1000)

    async def ping(self) -> None:
        async with self._guard():
            await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
