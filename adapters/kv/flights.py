"""Single flight for cold cache entries, within one process: while one caller loads an entry,
the others that miss the same entry (at the same namespace generation) wait for its value instead
of running the same query again.

A value is shared only when the load says it may be (`shareable`, as for filling): what one viewer
may not share with the cache, it does not share with the viewers waiting beside it either; they
load for themselves, as do those that wait longer than `wait`, or whose leader failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

# A cache load: the value, and whether it may be shared (stored, and given to other callers).
Load = Callable[[], Awaitable[tuple[bytes, bool]]]
# How long a caller waits for another's load before it loads for itself.
FILL_WAIT = 10.0


async def load_shared(load: Load, store: Callable[[bytes], Awaitable[object]]) -> bytes | None:
    """Run `load`; store its value and answer it when shareable, else None."""
    value, shareable = await load()
    if not shareable:
        return None
    await store(value)
    return value


@dataclass(frozen=True, slots=True)
class Filled:
    """A leader's outcome: the value to give the callers waiting on it (None: nothing shareable),
    and whether the leader's own caller ran `load` (its own result is then its answer)."""

    value: bytes | None
    loaded: bool


class Flights:
    """The loads running in this process, one per entry."""

    def __init__(self, wait: float = FILL_WAIT) -> None:
        self._wait = wait
        self._running: dict[Hashable, asyncio.Future[bytes | None]] = {}

    async def run(
        self, entry: Hashable, lead: Callable[[], Awaitable[Filled]], alone: Callable[[], Awaitable[object]]
    ) -> bytes | None:
        """The value another caller loaded and shared, or None when this caller ran its load
        (`lead` as the entry's leader, or `alone` after waiting in vain)."""
        running = self._running.get(entry)
        if running is not None:
            try:
                shared = await asyncio.wait_for(asyncio.shield(running), self._wait)
            except TimeoutError:
                shared = None
            if shared is not None:
                return shared
            await alone()
            return None
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._running[entry] = future
        filled = Filled(None, loaded=True)
        try:
            filled = await lead()
        finally:
            del self._running[entry]
            future.set_result(filled.value)
        return None if filled.loaded else filled.value
