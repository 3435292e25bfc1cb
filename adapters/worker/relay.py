"""The outbox relay loop: runs in `lms run` (in-process queue) or beside the SAQ worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.integrations.webhooks import WebhookService
from domain.notifications.relay import NotificationRelay
from domain.xapi.delivery import XapiDelivery

log = logging.getLogger("lms.webhooks")


class RelayLoop:
    """Calls the outbox's consumers every `interval` seconds until stopped: the inbox's
    notifications, then the webhook relay (when webhooks are configured). A failed round is logged
    and retried on the next tick (rows stay in the outbox until consumed, so nothing is lost
    meanwhile). Every `purge_every` seconds, from the first round on, it also purges what is past
    retention."""

    def __init__(
        self,
        webhooks: WebhookService,
        notifications: NotificationRelay,
        *,
        interval: float = 1.0,
        purge_every: float = 3600.0,
        poke_delay: float = 0.0,
        xapi: XapiDelivery | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._xapi = xapi
        self._notifications = notifications
        self._interval = interval
        self._purge_every = purge_every
        self._poke_delay = poke_delay
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    def poke(self) -> None:
        """Events were just committed in this process: start a round now rather than at the next
        tick, so a live client hears of them at once (pokes during a round make one more round)."""
        self._wake.set()

    async def once(self) -> None:
        """One round: the inbox's notifications first, then the webhook deliveries, then the xAPI
        statements (when an LRS is configured)."""
        await self._notifications.notify_once()
        await self._webhooks.relay_once()
        if self._xapi is not None:
            await self._xapi.relay_once()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_purge = loop.time()
        while True:
            try:
                await self.once()
            except Exception:
                log.warning("outbox relay round failed; retrying in %.1f s", self._interval, exc_info=True)
            if loop.time() >= next_purge:
                next_purge = loop.time() + self._purge_every
                try:
                    purged = await self._webhooks.purge_once()
                    if self._xapi is not None:
                        await self._xapi.purge_once()
                    if purged:
                        log.info("purged %d delivered events past retention", purged)
                except Exception:
                    log.warning("purging events past retention failed; trying again later", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            if self._poke_delay and self._wake.is_set() and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):  # a burst of commits makes one round
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._poke_delay)
            self._wake.clear()
            if self._stopping.is_set():
                return

    async def stop(self, grace: float = 5.0) -> None:
        """Let the round under way finish (a transaction is not cut midway), then stop; a round
        that hangs past `grace` seconds is cancelled (what it claimed is claimed again later)."""
        if self._task is not None:
            self._stopping.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
