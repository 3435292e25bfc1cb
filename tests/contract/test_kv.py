"""The key-value port: the same assertions for process memory and Redis."""

from __future__ import annotations

import asyncio

import pytest

from adapters.kv.redis_store import RedisKeyValue
from domain.shared.ports import KeyValueStore, KeyValueUnavailable
from tests.support.servers import flush, free_port


async def test_set_get_delete_exists(kv: KeyValueStore) -> None:
    assert await kv.get("a") is None
    await kv.set("a", "1", 10)
    await kv.set("b", "2", 10)
    assert await kv.get("a") == "1"
    assert await kv.exists("a", "b", "c") == 2
    await kv.delete("a", "c")
    assert await kv.get("a") is None
    assert await kv.exists("a") == 0


async def test_values_expire(kv: KeyValueStore) -> None:
    await kv.set("short", "x", 0.05)
    assert await kv.get("short") == "x"
    await asyncio.sleep(0.12)
    assert await kv.get("short") is None


async def test_set_if_absent_is_first_writer_wins(kv: KeyValueStore) -> None:
    results = await asyncio.gather(*(kv.set_if_absent("once", str(i), 10) for i in range(10)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await kv.get("once") == str(winner)


async def test_pop_hands_the_value_to_exactly_one_caller(kv: KeyValueStore) -> None:
    await kv.set("code", "123456", 10)
    results = await asyncio.gather(*(kv.pop("code") for _ in range(10)))
    assert results.count("123456") == 1
    assert results.count(None) == 9
    assert await kv.get("code") is None


async def test_hit_counts_in_a_fixed_window(kv: KeyValueStore) -> None:
    hits = [await kv.hit("w", 0.3) for _ in range(3)]
    assert [h.count for h in hits] == [1, 2, 3]
    assert 0 < hits[-1].reset_after <= 0.3
    assert hits[2].reset_after <= hits[0].reset_after  # the window does not slide
    await asyncio.sleep(0.4)
    assert (await kv.hit("w", 0.3)).count == 1


async def test_concurrent_hits_are_all_counted(kv: KeyValueStore) -> None:
    await asyncio.gather(*(kv.hit("many", 10) for _ in range(50)))
    assert (await kv.hit("many", 10)).count == 51


async def test_hit_and_count_shares_the_window_of_hit(kv: KeyValueStore) -> None:
    await kv.set("present", "1", 10)
    first, found = await kv.hit_and_count("both", 0.3, "present", "absent")
    assert (first.count, found) == (1, 1)
    second = await kv.hit("both", 0.3)  # the same counter, the same window
    third, none = await kv.hit_and_count("both", 0.3, "absent")
    assert ([first.count, second.count, third.count], none) == ([1, 2, 3], 0)
    assert 0 < third.reset_after <= first.reset_after <= 0.3
    alone, nothing = await kv.hit_and_count("solo", 10)
    assert (alone.count, nothing) == (1, 0)
    await asyncio.sleep(0.4)
    assert (await kv.hit_and_count("both", 0.3, "present"))[0].count == 1


async def test_get_many_and_hit_and_get_read_values_in_order(kv: KeyValueStore) -> None:
    await kv.set("one", "1", 10)
    await kv.set("three", "third value", 10)
    assert await kv.get_many("one", "two", "three") == ["1", None, "third value"]
    assert await kv.get_many() == []
    first, values = await kv.hit_and_get("counted", 10, "three", "two")
    second, none = await kv.hit_and_get("counted", 10)
    assert (first.count, values, second.count, none) == (1, ["third value", None], 2, [])


async def test_ping(kv: KeyValueStore) -> None:
    await kv.ping()


async def test_unreachable_redis_raises_unavailable() -> None:
    store = RedisKeyValue(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    calls = (store.ping(), store.get("x"), store.set("x", "1", 1), store.hit("x", 1), store.exists("x"),
             store.hit_and_count("x", 1, "y"), store.get_many("x"), store.hit_and_get("x", 1, "y"))  # fmt: skip
    for call in calls:
        with pytest.raises(KeyValueUnavailable):
            await call
    await store.close()


async def test_replace_if_changes_only_what_still_holds_the_expected_value(kv: KeyValueStore) -> None:
    await kv.set("lease", "mine", 10)
    assert not await kv.replace_if("lease", "theirs", "stolen", 10)
    assert await kv.get("lease") == "mine"
    assert await kv.replace_if("lease", "mine", "renewed", 0.05)
    assert await kv.get("lease") == "renewed"
    await asyncio.sleep(0.12)  # the new value carries the new expiry
    assert await kv.get("lease") is None
    assert not await kv.replace_if("lease", "renewed", "late", 10)  # expired: nothing to compare with
    assert await kv.get("lease") is None
    await kv.set("lease", "mine", 10)
    assert not await kv.replace_if("lease", "theirs", None, 10)
    assert await kv.replace_if("lease", "mine", None, 10)  # compare and delete
    assert await kv.get("lease") is None


async def test_replace_if_is_won_by_one_of_racing_callers(kv: KeyValueStore) -> None:
    await kv.set("race", "start", 10)
    results = await asyncio.gather(*(kv.replace_if("race", "start", str(i), 10) for i in range(10)))
    assert results.count(True) == 1
    assert await kv.get("race") == str(results.index(True))


async def test_an_error_reply_in_a_round_trip_leaves_the_connection_in_step(redis_url: str) -> None:
    """A command refused mid round trip (`INCR` of a text value) surfaces as unavailable after
    every reply was read: the pooled connection's next round trip reads its own replies."""
    await flush(redis_url)
    store = RedisKeyValue(redis_url)
    try:
        await store.set("words", "not a number", 10)
        await store.set("present", "1", 10)
        with pytest.raises(KeyValueUnavailable):
            await store.hit_and_count("words", 60, "present")
        hit, found = await store.hit_and_count("fresh", 60, "present", "absent")
        assert (hit.count, found) == (1, 1)
        assert 0 < hit.reset_after <= 60
        assert await store.get("words") == "not a number"
    finally:
        await store.close()
