"""An in-process job queue: each job runs as an asyncio task of the API process.

Jobs still queued when the process stops are lost; that is the embedded default's trade-off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from adapters.queue.retry import RetryPolicy
from domain.shared.jobs import JobHandlers
from domain.shared.telemetry import NULL_METER, Meter

log = logging.getLogger("lms.queue")


class InProcessQueue:
    def __init__(self, handlers: JobHandlers, retry: RetryPolicy | None = None, meter: Meter = NULL_METER) -> None:
        self._handlers = handlers
        self._retry = retry or RetryPolicy()
        self._tasks: set[asyncio.Task[None]] = set()
        self._meter = meter
        self._schedules: list[asyncio.Task[None]] = []

    def every(self, name: str, seconds: float) -> None:
        """Run the job `name` every `seconds` from now on, until the queue closes (the embedded
        default's scheduler; with SAQ, its cron does this)."""
        if name not in self._handlers:
            raise LookupError(f"unknown job {name!r}")

        async def tick() -> None:
            while True:
                await asyncio.sleep(seconds)
                await self.enqueue(name, {})

        self._schedules.append(asyncio.get_running_loop().create_task(tick(), name=f"schedule:{name}"))

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        if name not in self._handlers:
            raise LookupError(f"unknown job {name!r}")
        task = asyncio.get_running_loop().create_task(self._run(name, payload), name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, name: str, payload: dict[str, Any]) -> None:
        for attempt in range(1, self._retry.attempts + 1):
            try:
                await asyncio.wait_for(self._handlers[name](payload), self._retry.timeout)
                self._meter.counter("lms_jobs", job=name, outcome="complete").inc()
                return
            except Exception:
                if attempt == self._retry.attempts:
                    self._meter.counter("lms_jobs", job=name, outcome="failed").inc()
                    log.exception("job %s failed for good after %d attempts", name, attempt, extra={"job": name})
                    return
                self._meter.counter("lms_jobs", job=name, outcome="retried").inc()
                delay = self._retry.delay(attempt)
                log.warning(
                    "job %s failed (attempt %d); retrying in %.0f s",
                    name,
                    attempt,
                    delay,
                    exc_info=True,
                    extra={"job": name},
                )
                await asyncio.sleep(delay)

    async def depth(self) -> dict[str, int]:
        """Jobs of this process not yet finished (running, or waiting for a retry)."""
        return {"active": len(self._tasks)}

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the jobs queued so far (tests, graceful shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for schedule in self._schedules:
            schedule.cancel()
        self._schedules.clear()
        await self.drain(timeout=5.0)
        for task in list(self._tasks):
            task.cancel()
