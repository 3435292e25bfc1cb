"""The key-value port on Redis, shared by every API process; connection failures surface as
KeyValueUnavailable so callers decide whether to fail open or closed."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from adapters.kv.counting import CacheReads
from adapters.kv.flights import FILL_WAIT, Filled, Flights, Load, load_shared
from domain.shared.ports import Cached, KeyValueUnavailable, WindowHit
from domain.shared.telemetry import NULL_METER, Counter, Meter


@asynccontextmanager
async def _guard(errors: Counter) -> AsyncIterator[None]:
    """Connection and protocol failures become KeyValueUnavailable (and are counted)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        errors.inc()
        raise KeyValueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc


# Compare and set (or delete, with an empty value): Redis 7 has no conditional SET on a value.
_REPLACE_IF = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""


def _command(*parts: str | bytes | int) -> bytes:
    """One command in the Redis protocol (RESP), as redis-py would send it."""
    encoded = [p if isinstance(p, bytes) else str(p).encode() for p in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in encoded)


def _window_hit(counter: str, window: float) -> tuple[bytes, bytes, bytes]:
    """Count one hit in a fixed window that opens with the first: `INCR`, `PEXPIRE … NX` (sets
    the expiry only on a key without one, Redis 7) and `PTTL`; replies: count, _, ms left."""
    return (
        _command(b"INCR", counter),
        _command(b"PEXPIRE", counter, max(1, int(window * 1000)), b"NX"),
        _command(b"PTTL", counter),
    )


async def _round_trip(redis: aioredis.Redis, *commands: bytes) -> list[Any]:
    """Commands sent in one write and their replies read back: a pipeline without redis-py's
    per-command packing and response machinery (measured: 80 µs of CPU for the rate limiter's five
    commands against 130 µs through `pipeline()`), on one of its pooled connections, with its
    retry and disconnect handling. Every reply is read before an error reply is raised, so the
    connection never desyncs. Replies are the protocol's own (integers, bulk strings or None)."""
    pool = redis.connection_pool
    connection = await pool.get_connection()  # type: ignore[no-untyped-call]
    packed = b"".join(commands)

    async def exchange() -> list[Any]:
        await connection.send_packed_command(packed)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as error:
                replies.append(error)
        return replies

    async def failed(_: Exception) -> None:
        await connection.disconnect()

    try:
        replies: list[Any] = await connection.retry.call_with_retry(exchange, failed)
    finally:
        await pool.release(connection)
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies


def _text(reply: bytes | str | None) -> str | None:
    return reply.decode() if isinstance(reply, bytes) else reply


class RedisKeyValue:
    def __init__(self, url: str, *, prefix: str = "lms:", timeout: float = 1.0, meter: Meter = NULL_METER) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._prefix = prefix
        self._replace_if = self._redis.register_script(_REPLACE_IF)
        self._errors = meter.counter("lms_redis_errors", store="kv")

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        async with _guard(self._errors):
            value = await self._redis.get(self._k(key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        async with _guard(self._errors):
            await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        async with _guard(self._errors):
            return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    async def pop(self, key: str) -> str | None:
        async with _guard(self._errors):
            value = await self._redis.getdel(self._k(key))
        return None if value is None else str(value)

    async def delete(self, *keys: str) -> None:
        if keys:
            async with _guard(self._errors):
                await self._redis.delete(*(self._k(k) for k in keys))

    async def replace_if(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        if value == "":
            raise ValueError("an empty value cannot be stored by replace_if")
        async with _guard(self._errors):
            done = await self._replace_if(keys=[self._k(key)], args=[expected, value or "", max(1, int(ttl * 1000))])
        return bool(done)

    async def exists(self, *keys: str) -> int:
        async with _guard(self._errors):
            return int(await self._redis.exists(*(self._k(k) for k in keys)))

    async def hit(self, key: str, window: float) -> WindowHit:
        return (await self.hit_and_count(key, window))[0]

    async def hit_and_count(self, key: str, window: float, *present: str) -> tuple[WindowHit, int]:
        """One pipeline of plain commands, so one round trip (a script in a pipeline costs a second,
        redis-py's SCRIPT EXISTS), and its keys may live in different cluster slots. The window
        opens with the first hit: `PEXPIRE … NX` sets it only on a key without one (Redis 7)."""
        exists = [_command(b"EXISTS", *(self._k(k) for k in present))] if present else []
        async with _guard(self._errors):
            count, _, ttl_ms, *found = await _round_trip(self._redis, *_window_hit(self._k(key), window), *exists)
        return WindowHit(count=int(count), reset_after=max(int(ttl_ms), 0) / 1000), int(found[0]) if found else 0

    async def get_many(self, *keys: str) -> list[str | None]:
        """One GET per key in one pipeline (not MGET: the keys may live in different cluster slots)."""
        if not keys:
            return []
        async with _guard(self._errors):
            replies = await _round_trip(self._redis, *(_command(b"GET", self._k(k)) for k in keys))
        return [_text(reply) for reply in replies]

    async def hit_and_get(self, key: str, window: float, *keys: str) -> tuple[WindowHit, list[str | None]]:
        gets = [_command(b"GET", self._k(k)) for k in keys]
        async with _guard(self._errors):
            count, _, ttl_ms, *values = await _round_trip(self._redis, *_window_hit(self._k(key), window), *gets)
        return WindowHit(count=int(count), reset_after=max(int(ttl_ms), 0) / 1000), [_text(v) for v in values]

    async def ping(self) -> None:
        async with _guard(self._errors):
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
# A fill's lease on an entry (ended early by its holder), and how often the others look for it.
_FILL_LEASE = 15.0
_FIRST_POLL, _LAST_POLL = 0.002, 0.05

log = logging.getLogger("lms.cache")


class RedisCache:
    """The cache port on Redis, shared by every API process. Reads and fills fail soft (a miss);
    invalidation raises KeyValueUnavailable so the writer knows."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "lms:cache:",
        counter_prefix: str = "lms:",
        timeout: float = 1.0,
        meter: Meter = NULL_METER,
    ) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self._prefix = prefix
        self._counter_prefix = counter_prefix  # RedisKeyValue's, whose window counts `counted_get` shares
        self._put = self._redis.register_script(_CACHE_PUT)
        self._release = self._redis.register_script(_REPLACE_IF)
        self._flights = Flights()
        self._errors = meter.counter("lms_redis_errors", store="cache")
        self._reads = CacheReads(meter)

    def _generation_key(self, namespace: str) -> str:
        return f"{self._prefix}{{{namespace}}}:generation"

    def _entry_key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{{{namespace}}}:e:{key}"

    def _fill_key(self, namespace: str, key: str, stamp: int) -> str:
        return f"{self._prefix}{{{namespace}}}:f:{stamp}:{key}"

    def _entry_reads(self, namespace: str, key: str) -> tuple[bytes, bytes]:
        """The namespace's generation and the entry: two plain GETs."""
        return _command(b"GET", self._generation_key(namespace)), _command(b"GET", self._entry_key(namespace, key))

    async def get(self, namespace: str, key: str) -> Cached:
        try:
            generation, entry = await _round_trip(self._redis, *self._entry_reads(namespace, key))
        except (RedisError, OSError) as exc:
            self._errors.inc()
            log.warning("cache read failed: %s", type(exc).__name__)
            return self._reads.count(Cached(None, None))
        return self._reads.count(_cached(generation, entry))

    async def counted_get(self, counter: str, window: float, namespace: str, key: str) -> tuple[WindowHit, Cached]:
        """A rate-limit window hit (as `RedisKeyValue.hit`, on its key `counter`) and a cache
        read, in one round trip; KeyValueUnavailable when Redis cannot be reached."""
        async with _guard(self._errors):
            count, _, ttl_ms, generation, entry = await _round_trip(
                self._redis, *_window_hit(self._counter_prefix + counter, window), *self._entry_reads(namespace, key)
            )
        hit = WindowHit(count=int(count), reset_after=max(int(ttl_ms), 0) / 1000)
        return hit, self._reads.count(_cached(generation, entry))

    async def put(self, namespace: str, key: str, value: bytes, *, stamp: int, ttl: float) -> bool:
        ttl_ms = max(1, int(min(ttl, _MAX_ENTRY_TTL) * 1000))
        keys = [self._generation_key(namespace), self._entry_key(namespace, key)]
        try:
            return bool(await self._put(keys=keys, args=[str(stamp), value, ttl_ms, _GENERATION_TTL]))
        except (RedisError, OSError) as exc:
            self._errors.inc()
            log.warning("cache fill failed: %s", type(exc).__name__)
            return False

    async def fill(self, namespace: str, key: str, load: Load, *, stamp: int, ttl: float) -> bytes | None:
        """In this process, callers wait on the one flight per entry; across processes, the
        flight holds a lease on the entry (`SET NX`, so one process at a time loads it) and the
        others poll for the entry it stores. A lease outlives no crashed holder by more than
        `_FILL_LEASE`; a caller that waits `FILL_WAIT` in vain loads for itself."""

        async def alone() -> bytes | None:
            return await load_shared(load, lambda value: self.put(namespace, key, value, stamp=stamp, ttl=ttl))

        async def lead() -> Filled:
            lease, token = self._fill_key(namespace, key, stamp), secrets.token_hex(8)
            deadline, pause = time.monotonic() + FILL_WAIT, _FIRST_POLL
            while True:
                try:
                    held = await self._redis.set(lease, token, nx=True, px=int(_FILL_LEASE * 1000))
                except (RedisError, OSError):
                    held = True  # fail soft: no lease to take, so load as if alone
                    token = ""
                if held:
                    try:
                        return Filled(await alone(), loaded=True)
                    finally:
                        if token:
                            await self._let_go(lease, token)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _LAST_POLL)
                found = await self._peek(namespace, key)
                if found is not None:
                    return Filled(found, loaded=False)
                if time.monotonic() > deadline:
                    return Filled(await alone(), loaded=True)

        return await self._flights.run((namespace, key, stamp), lead, alone)

    async def _peek(self, namespace: str, key: str) -> bytes | None:
        """The entry at the namespace's current generation, uncounted (a wait, not a read)."""
        try:
            generation, entry = await _round_trip(self._redis, *self._entry_reads(namespace, key))
        except (RedisError, OSError):
            return None
        return _cached(generation, entry).value

    async def _let_go(self, lease: str, token: str) -> None:
        try:
            await self._release(keys=[lease], args=[token, "", 0])
        except (RedisError, OSError) as exc:  # the lease then ends on its own
            log.warning("cache fill lease not released: %s", type(exc).__name__)

    async def invalidate(self, *namespaces: str) -> None:
        if not namespaces:
            return
        async with _guard(self._errors), self._redis.pipeline(transaction=False) as pipe:
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
