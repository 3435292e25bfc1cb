"""In-process key-value store and cache; state is lost on restart and not shared."""

from __future__ import annotations

import time
from collections import OrderedDict

from adapters.kv.counting import CacheReads
from adapters.kv.flights import Filled, Flights, Load, load_shared
from domain.shared.ports import Cached, WindowHit
from domain.shared.telemetry import NULL_METER, Meter

_PURGE_EVERY = 1024


class MemoryKeyValue:
    """Every method runs without awaiting, so each is atomic on the event loop."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._ops = 0

    def _live(self, key: str, now: float) -> tuple[str, float] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] <= now:
            del self._data[key]
            return None
        return entry

    def _tick(self, now: float) -> None:
        self._ops += 1
        if self._ops % _PURGE_EVERY == 0:
            for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[key]

    async def get(self, key: str) -> str | None:
        entry = self._live(key, time.monotonic())
        return entry[0] if entry else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        now = time.monotonic()
        self._tick(now)
        self._data[key] = (value, now + ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        now = time.monotonic()
        if self._live(key, now) is not None:
            return False
        self._tick(now)
        self._data[key] = (value, now + ttl)
        return True

    async def pop(self, key: str) -> str | None:
        entry = self._live(key, time.monotonic())
        if entry is None:
            return None
        del self._data[key]
        return entry[0]

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def replace_if(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None or entry[0] != expected:
            return False
        if value is None:
            del self._data[key]
        else:
            self._data[key] = (value, now + ttl)
        return True

    async def exists(self, *keys: str) -> int:
        now = time.monotonic()
        return sum(1 for key in keys if self._live(key, now) is not None)

    async def hit(self, key: str, window: float) -> WindowHit:
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None:
            self._tick(now)
            self._data[key] = ("1", now + window)
            return WindowHit(count=1, reset_after=window)
        count = int(entry[0]) + 1
        self._data[key] = (str(count), entry[1])
        return WindowHit(count=count, reset_after=entry[1] - now)

    async def hit_and_count(self, key: str, window: float, *present: str) -> tuple[WindowHit, int]:
        return await self.hit(key, window), await self.exists(*present)

    async def get_many(self, *keys: str) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def hit_and_get(self, key: str, window: float, *keys: str) -> tuple[WindowHit, list[str | None]]:
        return await self.hit(key, window), await self.get_many(*keys)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class MemoryCache:
    """The cache port in process memory: generations per namespace, least recently used eviction,
    and a single flight per cold entry in this process.

    Every method but `fill` (which awaits its load) runs without awaiting, so each is atomic on
    the event loop.
    """

    def __init__(self, max_entries: int = 10_000, meter: Meter = NULL_METER) -> None:
        self._generations: dict[str, int] = {}
        self._entries: OrderedDict[tuple[str, str], tuple[int, float, bytes]] = OrderedDict()
        self._max_entries = max_entries
        self._reads = CacheReads(meter)
        self._flights = Flights()

    async def get(self, namespace: str, key: str) -> Cached:
        generation = self._generations.get(namespace, 0)
        entry = self._entries.get((namespace, key))
        if entry is not None and entry[0] == generation and entry[1] > time.monotonic():
            self._entries.move_to_end((namespace, key))
            return self._reads.count(Cached(entry[2], generation))
        return self._reads.count(Cached(None, generation))

    async def put(self, namespace: str, key: str, value: bytes, *, stamp: int, ttl: float) -> bool:
        if self._generations.get(namespace, 0) != stamp:
            return False  # invalidated since the read that produced `value`
        self._entries[(namespace, key)] = (stamp, time.monotonic() + ttl, value)
        self._entries.move_to_end((namespace, key))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return True

    async def fill(self, namespace: str, key: str, load: Load, *, stamp: int, ttl: float) -> bytes | None:
        async def alone() -> bytes | None:
            return await load_shared(load, lambda value: self.put(namespace, key, value, stamp=stamp, ttl=ttl))

        async def lead() -> Filled:
            return Filled(await alone(), loaded=True)

        return await self._flights.run((namespace, key, stamp), lead, alone)

    async def invalidate(self, *namespaces: str) -> None:
        for namespace in namespaces:
            self._generations[namespace] = self._generations.get(namespace, 0) + 1

    async def close(self) -> None:
        self._entries.clear()
