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


class Loads:
    """A load that takes a while (so that callers overlap) and counts its runs."""

    def __init__(self, value: bytes = b"loaded", *, shareable: bool = True, fail: bool = False) -> None:
        self.runs = 0
        self._value, self._shareable, self._fail = value, shareable, fail

    async def __call__(self) -> tuple[bytes, bool]:
        self.runs += 1
        run = self.runs
        await asyncio.sleep(0.05)
        if self._fail:
            raise RuntimeError("the load failed")
        return self._value + str(run).encode(), self._shareable


async def cold_read(cache: Cache, load: Loads, key: str = "k") -> bytes:
    """read_through's way: a read, then on a miss the single-flight fill."""
    cached = await cache.get("ns", key)
    if cached.value is not None:
        return cached.value
    assert cached.stamp is not None
    own: list[bytes] = []

    async def loading() -> tuple[bytes, bool]:
        value, shareable = await load()
        own.append(value)
        return value, shareable

    shared = await cache.fill("ns", key, loading, stamp=cached.stamp, ttl=10)
    return own[0] if shared is None else shared


async def test_sixteen_cold_readers_load_once(cache: Cache) -> None:
    load = Loads()
    answers = await asyncio.gather(*(cold_read(cache, load) for _ in range(16)))
    assert load.runs == 1
    assert answers == [b"loaded1"] * 16
    assert (await cache.get("ns", "k")).value == b"loaded1"


async def test_readers_of_other_entries_load_their_own(cache: Cache) -> None:
    load = Loads()
    answers = await asyncio.gather(*(cold_read(cache, load, key=f"k{n % 4}") for n in range(16)))
    assert load.runs == 4
    assert len(set(answers)) == 4


async def test_what_may_not_be_shared_is_loaded_by_each_reader(cache: Cache) -> None:
    """A manager's view of a draft is neither stored nor handed to the readers beside it."""
    load = Loads(shareable=False)
    answers = await asyncio.gather(*(cold_read(cache, load) for _ in range(4)))
    assert load.runs == 4
    assert sorted(answers) == [b"loaded1", b"loaded2", b"loaded3", b"loaded4"]
    assert (await cache.get("ns", "k")).value is None


async def test_a_failed_load_leaves_the_others_to_load(cache: Cache) -> None:
    failing, load = Loads(fail=True), Loads()
    first = asyncio.ensure_future(cold_read(cache, failing))
    await asyncio.sleep(0.01)  # the failing load leads
    others = await asyncio.gather(*(cold_read(cache, load) for _ in range(3)))
    with pytest.raises(RuntimeError):
        await first
    assert failing.runs == 1
    assert set(others) <= {b"loaded1", b"loaded2", b"loaded3"}
    assert load.runs >= 1


async def test_a_reader_after_a_write_does_not_wait_for_a_load_from_before_it(cache: Cache) -> None:
    """The flight is per generation: a read that missed after an invalidation loads anew."""
    before, after = Loads(b"before"), Loads(b"after")
    early = asyncio.ensure_future(cold_read(cache, before))
    await asyncio.sleep(0.01)
    await cache.invalidate("ns")  # a write commits while the early load runs
    assert await cold_read(cache, after) == b"after1"
    assert await early == b"before1"
    assert (await cache.get("ns", "k")).value == b"after1"  # the early fill was refused


async def test_processes_sharing_redis_load_a_cold_entry_once(redis_url: str) -> None:
    """Two caches on one Redis stand for two API processes: one lease per entry between them."""
    await flush(redis_url)
    caches = [RedisCache(redis_url), RedisCache(redis_url)]
    load = Loads()
    try:
        answers = await asyncio.gather(*(cold_read(caches[n % 2], load) for n in range(16)))
        assert load.runs == 1
        assert answers == [b"loaded1"] * 16
    finally:
        for cache in caches:
            await cache.close()


async def test_a_lease_left_by_a_crashed_process_delays_a_fill_only_briefly(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await flush(redis_url)
    monkeypatch.setattr("adapters.kv.redis_store.FILL_WAIT", 0.2)
    cache = RedisCache(redis_url)
    try:
        stamp = (await cache.get("ns", "k")).stamp
        assert stamp is not None
        await cache._redis.set(cache._fill_key("ns", "k", stamp), "crashed", px=60_000)
        load = Loads()
        assert await cold_read(cache, load) == b"loaded1"
        assert load.runs == 1
    finally:
        await cache.close()
