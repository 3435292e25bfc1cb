"""The key-value port on Redis, shared by every API process; connection failures surface as
KeyValueUnavailable so callers decide whether to fail open or closed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from domain.shared.ports import Cached, KeyValueUnavailable, WindowHit


@asynccontextmanager
async def _guard() -> AsyncIterator[None]:
    """Connection and protocol failures become KeyValueUnavailable."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise KeyValueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc


# Compare and set (or delete, with an empty value): Redis 7 has no conditional SET on a value.
_REPLACE_IF = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
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
        self._replace_if = self._redis.register_script(_REPLACE_IF)

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        async with _guard():
            value = await self._redis.get(self._k(key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        async with _guard():
            await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        async with _guard():
            return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    async def pop(self, key: str) -> str | None:
        async with _guard():
            value = await self._redis.getdel(self._k(key))
        return None if value is None else str(value)

    async def delete(self, *keys: str) -> None:
        if keys:
            async with _guard():
                await self._redis.delete(*(self._k(k) for k in keys))

    async def replace_if(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        if value == "":
            raise ValueError("an empty value cannot be stored by replace_if")
        async with _guard():
            done = await self._replace_if(keys=[self._k(key)], args=[expected, value or "", max(1, int(ttl * 1000))])
        return bool(done)

    async def exists(self, *keys: str) -> int:
        async with _guard():
            return int(await self._redis.exists(*(self._k(k) for k in keys)))

    async def hit(self, key: str, window: float) -> WindowHit:
        return (await self.hit_and_count(key, window))[0]

    async def hit_and_count(self, key: str, window: float, *present: str) -> tuple[WindowHit, int]:
        """One pipeline of plain commands, so one round trip (a script in a pipeline costs a second,
        redis-py's SCRIPT EXISTS), and its keys may live in different cluster slots. The window
        opens with the first hit: `PEXPIRE … NX` sets it only on a key without one (Redis 7)."""
        counted = self._k(key)
        async with _guard():
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(counted)
            pipe.pexpire(counted, max(1, int(window * 1000)), nx=True)
            pipe.pttl(counted)
            if present:
                pipe.exists(*(self._k(k) for k in present))
            count, _, ttl_ms, *found = await pipe.execute()
        return WindowHit(count=int(count), reset_after=max(int(ttl_ms), 0) / 1000), int(found[0]) if found else 0

    async def ping(self) -> None:
        async with _guard():
            await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


# An entry is stored with the namespace generation it was filled at (`<generation>:<value>`);
# invalidating bumps the generation, so every older entry reads as a miss at once (and is written
# over or expires on its own). A read is two plain GETs in one pipeline, so it can share a round
# trip with other commands (a script in a pipeline costs redis-py a second one). Keys share a hash
# tag per namespace, so a cluster keeps a namespace's keys in one slot.
# Store only if the namespace is still at the generation the reader saw before loading.
_CACHE_PUT = """
local generation = redis.call('GET', KEYS[1]) or '0'
if generation ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], generation .. ':' .. ARGV[2], 'PX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
# Generations outlive every entry by far, so one that expires comes back as 0 with no entry left.
_GENERATION_TTL = 86_400
_MAX_ENTRY_TTL = 3_600.0

log = logging.getLogger("lms.cache")


class RedisCache:
    """The cache port on Redis, shared by every API process. Reads and fills fail soft (a miss);
    invalidation raises KeyValueUnavailable so the writer knows."""

    def __init__(
        self, url: str, *, prefix: str = "lms:cache:", counter_prefix: str = "lms:", timeout: float = 1.0
    ) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self._prefix = prefix
        self._counter_prefix = counter_prefix  # RedisKeyValue's, whose window counts `counted_get` shares
        self._put = self._redis.register_script(_CACHE_PUT)

    def _generation_key(self, namespace: str) -> str:
        return f"{self._prefix}{{{namespace}}}:generation"

    def _entry_key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{{{namespace}}}:e:{key}"

    async def get(self, namespace: str, key: str) -> Cached:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._generation_key(namespace))
                pipe.get(self._entry_key(namespace, key))
                generation, entry = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("cache read failed: %s", type(exc).__name__)
            return Cached(None, None)
        return _cached(generation, entry)

    async def counted_get(self, counter: str, window: float, namespace: str, key: str) -> tuple[WindowHit, Cached]:
        """A rate-limit window hit (as `RedisKeyValue.hit`, on its key `counter`) and a cache
        read, in one round trip; KeyValueUnavailable when Redis cannot be reached."""
        counted = self._counter_prefix + counter
        async with _guard(), self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(counted)
            pipe.pexpire(counted, max(1, int(window * 1000)), nx=True)
            pipe.pttl(counted)
            pipe.get(self._generation_key(namespace))
            pipe.get(self._entry_key(namespace, key))
            count, _, ttl_ms, generation, entry = await pipe.execute()
        return WindowHit(count=int(count), reset_after=max(int(ttl_ms), 0) / 1000), _cached(generation, entry)

    async def put(self, namespace: str, key: str, value: bytes, *, stamp: int, ttl: float) -> bool:
        ttl_ms = max(1, int(min(ttl, _MAX_ENTRY_TTL) * 1000))
        keys = [self._generation_key(namespace), self._entry_key(namespace, key)]
        try:
            return bool(await self._put(keys=keys, args=[str(stamp), value, ttl_ms, _GENERATION_TTL]))
        except (RedisError, OSError) as exc:
            log.warning("cache fill failed: %s", type(exc).__name__)
            return False

    async def invalidate(self, *namespaces: str) -> None:
        if not namespaces:
            return
        async with _guard(), self._redis.pipeline(transaction=False) as pipe:
            for namespace in namespaces:
                pipe.incr(self._generation_key(namespace))
                pipe.expire(self._generation_key(namespace), _GENERATION_TTL)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


def _cached(generation: bytes | None, entry: bytes | None) -> Cached:
    """The read of an entry stored as `<generation>:<value>`: a miss unless it was filled at the
    namespace's current generation."""
    current = int(generation or 0)
    if entry is not None:
        filled, _, value = bytes(entry).partition(b":")
        if filled.isdigit() and int(filled) == current:
            return Cached(value, current)
    return Cached(None, current)
