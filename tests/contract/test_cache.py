"""The cache port: the same assertions for process memory and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.kv.memory import MemoryCache
from adapters.kv.redis_store import RedisCache, RedisKeyValue
from domain.shared.ports import Cache, KeyValueUnavailable
from tests.support.servers import flush, free_port


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    store: Cache
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        await flush(url)
        store = RedisCache(url)
    else:
        store = MemoryCache()
    yield store
    await store.close()


async def test_miss_fill_hit(cache: Cache) -> None:
    miss = await cache.get("ns", "k")
    assert miss.value is None
    assert miss.stamp is not None
    assert await cache.put("ns", "k", b"\x00value\n", stamp=miss.stamp, ttl=10)
    hit = await cache.get("ns", "k")
    assert hit.value == b"\x00value\n"
    assert (await cache.get("ns", "other")).value is None
    assert (await cache.get("other-ns", "k")).value is None


async def test_invalidation_hides_every_entry_of_the_namespace_only(cache: Cache) -> None:
    for ns, key in (("a", "1"), ("a", "2"), ("b", "1")):
        stamp = (await cache.get(ns, key)).stamp
        assert stamp is not None
        await cache.put(ns, key, ns.encode() + key.encode(), stamp=stamp, ttl=10)
    await cache.invalidate("a")
    assert (await cache.get("a", "1")).value is None
    assert (await cache.get("a", "2")).value is None
    assert (await cache.get("b", "1")).value == b"b1"
    fresh = await cache.get("a", "1")
    assert fresh.stamp is not None
    assert await cache.put("a", "1", b"new", stamp=fresh.stamp, ttl=10)
    assert (await cache.get("a", "1")).value == b"new"


async def test_a_fill_that_raced_a_write_is_refused(cache: Cache) -> None:
    """Reader: miss (stamp) → load old data; writer: commit → invalidate; reader: fill → refused."""
    before = await cache.get("course", "public")
    assert before.stamp is not None
    await cache.invalidate("course")  # a write committed after the reader loaded
    assert not await cache.put("course", "public", b"old", stamp=before.stamp, ttl=10)
    assert (await cache.get("course", "public")).value is None


async def test_entries_expire(cache: Cache) -> None:
    stamp = (await cache.get("ns", "short")).stamp
    assert stamp is not None
    await cache.put("ns", "short", b"x", stamp=stamp, ttl=0.05)
    await asyncio.sleep(0.12)
    assert (await cache.get("ns", "short")).value is None


async def test_memory_cache_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    for key in ("a", "b"):
        await cache.put("ns", key, key.encode(), stamp=0, ttl=10)
    await cache.get("ns", "a")  # a is now the most recent
    await cache.put("ns", "c", b"c", stamp=0, ttl=10)
    assert (await cache.get("ns", "a")).value == b"a"
    assert (await cache.get("ns", "b")).value is None
    assert (await cache.get("ns", "c")).value == b"c"


async def test_redis_down_reads_as_a_miss_and_invalidation_raises() -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    try:
        lookup = await cache.get("ns", "k")
        assert lookup.value is None
        assert lookup.stamp is None  # do not fill
        assert not await cache.put("ns", "k", b"v", stamp=0, ttl=10)
        with pytest.raises(KeyValueUnavailable):
            await cache.invalidate("ns")
    finally:
        await cache.close()


async def test_a_counted_read_counts_with_the_key_value_store_and_reads_like_get(redis_url: str) -> None:
    """Redis only: the rate limiter's window hit and a cache read in one round trip. The count is
    the key-value store's own (the same key, the same window), the read the same as `get`."""
    await flush(redis_url)
    cache, kv = RedisCache(redis_url), RedisKeyValue(redis_url)
    try:
        assert (await kv.hit("rl:global:ip:10.0.0.9", 60)).count == 1
        hit, cached = await cache.counted_get("rl:global:ip:10.0.0.9", 60, "courses", "public:/a")
        assert (hit.count, cached.value) == (2, None) and 0 < hit.reset_after <= 60
        assert cached.stamp is not None
        assert await cache.put("courses", "public:/a", b"entry:with:colons", stamp=cached.stamp, ttl=30)
        _, cached = await cache.counted_get("rl:global:ip:10.0.0.9", 60, "courses", "public:/a")
        assert cached.value == b"entry:with:colons" and cached == await cache.get("courses", "public:/a")
        await cache.invalidate("courses")
        _, cached = await cache.counted_get("rl:global:ip:10.0.0.9", 60, "courses", "public:/a")
        assert cached.value is None and (await kv.hit("rl:global:ip:10.0.0.9", 60)).count == 5
    finally:
        await cache.close()
        await kv.close()
