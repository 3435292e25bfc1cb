"""The job queue on SAQ (Redis): the API enqueues, `lms worker` runs the jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from saq import Job, Queue, Worker
from saq.queue.redis import RedisQueue
from saq.types import PartialTimersDict

from adapters.queue.retry import RetryPolicy
from domain.shared.jobs import JobHandler, JobHandlers
from domain.shared.ports import KeyValueUnavailable

QUEUE_NAME = "lms"
log = logging.getLogger("lms.worker")


class _RedisQueue(RedisQueue):
    """SAQ's Redis queue, but a sweep waits 1 s (not 5 s) for each stuck job's worker to
    acknowledge its abort: the sweep handles stuck jobs one after another, and a dead worker never
    answers, so a crash that left ten jobs running would otherwise hold their retries 50 s."""

    async def sweep(self, lock: int = 60, abort: float = 1.0) -> list[str]:
        return await super().sweep(lock, abort)


class SaqQueue:
    def __init__(self, url: str, *, name: str = QUEUE_NAME, retry: RetryPolicy | None = None) -> None:
        self.queue: Queue = _RedisQueue.from_url(url, name=name)
        self._retry = retry or RetryPolicy()

    async def connect(self) -> None:
        await self.queue.connect()

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        await self.queue.enqueue(
            name,
            payload=payload,
            retries=self._retry.attempts,
            retry_delay=self._retry.first_delay,
            retry_backoff=self._retry.max_delay,
            timeout=self._retry.timeout,
            heartbeat=self._retry.heartbeat,
        )

    async def ping(self) -> None:
        try:
            await self.queue.redis.ping()  # type: ignore[attr-defined]
        except Exception as exc:
            raise KeyValueUnavailable(f"queue Redis unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self.queue.disconnect()

    def worker(self, handlers: JobHandlers, *, concurrency: int = 10) -> Worker[Any]:
        """A SAQ worker running `handlers` on this queue."""

        every = self._retry.heartbeat / 3

        def adapt(handler: JobHandler) -> Any:
            async def run(ctx: dict[str, Any], *, payload: dict[str, Any]) -> None:
                beating = asyncio.create_task(_beat(ctx["job"], every))
                try:
                    await handler(payload)
                finally:
                    beating.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await beating  # no touch may land after the worker records the outcome

            return run

        functions = [(name, adapt(handler)) for name, handler in handlers.items()]
        # A bounded dequeue wait lets the worker notice a stop request promptly; the sweep interval
        # is also the lock SAQ takes so that one worker sweeps at a time.
        worker: Worker[Any] = Worker(
            self.queue,
            functions=functions,
            concurrency=concurrency,
            dequeue_timeout=1.0,
            # SAQ's defaults but the sweep (its partial dict still types every key as required).
            timers=PartialTimersDict(schedule=1, worker_info=10, abort=1, sweep=self._retry.sweep),
        )
        worker.SIGNALS = []  # the owner stops it with stop_worker(), not SAQ's own signal handlers
        return worker


async def _beat(job: Job, every: float) -> None:
    """Touch the running job so that sweeps know its worker lives; a failed touch is retried on the
    next beat (the job only risks being retried, which every handler tolerates)."""
    while True:
        await asyncio.sleep(every)
        try:
            await job.update()
        except Exception:
            log.warning("could not touch job %s; retrying on the next beat", job.id, exc_info=True)


async def stop_worker(worker: Worker[Any], poll: float = 0.05) -> None:
    """Stop a SAQ worker promptly.

    SAQ's upkeep loops can swallow the first cancellation inside a Redis call and then sleep for
    their whole timer (up to 60 s) before the worker finishes stopping; cancelling again until the
    stop completes ends them at once.
    """
    tasks = list(worker.tasks)
    stopping = asyncio.create_task(worker.stop())
    while not stopping.done():
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.wait({stopping}, timeout=poll)
    await stopping
