"""The outbox relay loop: runs in `lms run` (in-process queue) or beside the SAQ worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.integrations.webhooks import WebhookService

log = logging.getLogger("lms.webhooks")


class RelayLoop:
    """Calls the relay every `interval` seconds until stopped; a failed round is logged and retried
    on the next tick (rows stay in the outbox until relayed, so nothing is lost meanwhile)."""

    def __init__(self, webhooks: WebhookService, interval: float = 1.0) -> None:
        self._webhooks = webhooks
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def _run(self) -> None:
        while True:
            try:
                await self._webhooks.relay_once()
            except Exception:
                log.warning("outbox relay round failed; retrying in %.1f s", self._interval, exc_info=True)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
