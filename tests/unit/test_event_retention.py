"""The retention purge of delivered events: its batches, and when the relay loop runs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.worker.relay import RelayLoop
from domain.integrations.webhooks import WebhookService
from tests.unit.fakes import FakeClock

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class PurgingStore:
    """Holds `left` purgeable events; records each purge's cutoff."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.cutoffs: list[datetime] = []

    async def purge(self, relayed_before: datetime, limit: int) -> int:
        self.cutoffs.append(relayed_before)
        done = min(limit, self.left)
        self.left -= done
        return done


def service(store: PurgingStore, retention: timedelta | None) -> WebhookService:
    return WebhookService(
        store=store,  # type: ignore[arg-type]
        sender=None,  # type: ignore[arg-type]
        queue=None,  # type: ignore[arg-type]
        clock=FakeClock(NOW),
        targets=("http://a.example/hook",),
        secret="s",
        batch=10,
        retention=retention,
    )


async def test_a_purge_deletes_in_batches_until_one_comes_back_short() -> None:
    store = PurgingStore(left=25)
    assert await service(store, timedelta(days=30)).purge_once() == 25
    assert store.cutoffs == [NOW - timedelta(days=30)] * 3  # 10, 10, 5


async def test_no_retention_keeps_everything() -> None:
    store = PurgingStore(left=25)
    assert await service(store, None).purge_once() == 0
    assert store.cutoffs == []


async def test_the_relay_loop_purges_on_its_first_round_then_every_so_often() -> None:
    calls: list[str] = []
    five_rounds = asyncio.Event()

    class Webhooks:
        async def relay_once(self) -> int:
            calls.append("relay")
            if calls.count("relay") == 5:
                five_rounds.set()
            return 0

        async def purge_once(self) -> int:
            calls.append("purge")
            raise RuntimeError("a failed purge is retried later, and the relay goes on")

    class Notifications:
        async def notify_once(self) -> int:
            calls.append("notify")
            return 0

    webhooks: Any = Webhooks()
    notifications: Any = Notifications()
    loop = RelayLoop(webhooks, notifications, interval=0.01, purge_every=3600)
    loop.start()
    await asyncio.wait_for(five_rounds.wait(), timeout=5)
    await loop.stop()
    assert calls[:3] == ["notify", "relay", "purge"]  # the inbox first, then webhooks
    assert calls.count("purge") == 1
