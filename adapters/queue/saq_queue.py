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


# Which jobs of the active list a sweep looks at (KEYS: the sweep lock, the active list; ARGV: the
# lock's seconds). SAQ's own picks every job there, and sweeps one whose status is not `active`:
# but a job a worker has just moved to the list is still `queued` until that worker marks it
# active, so a sweep at that moment would run it twice. Here a job that is not active is swept
# only when the previous sweep saw it in the list already (it is left over, not being started).
_SWEEP_CANDIDATES = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {} end
redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
local seen_key = KEYS[1] .. ':not-active'
local seen = {}
for _, id in ipairs(redis.call('SMEMBERS', seen_key)) do seen[id] = true end
redis.call('DEL', seen_key)
local picked = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local raw = redis.call('GET', id)
  local status = raw and cjson.decode(raw)['status']
  if not raw or status == 'active' or status == 'aborting' or seen[id] then
    table.insert(picked, {id, raw})
  else
    redis.call('SADD', seen_key, id)
  end
end
redis.call('EXPIRE', seen_key, ARGV[1] * 10)
return picked
"""


class _RedisQueue(RedisQueue):
    """SAQ's Redis queue with a sweep that never takes back a job a worker is just starting (see
    `_SWEEP_CANDIDATES`), and that waits 1 s (not 5 s) for each stuck job's worker to acknowledge
    its abort: stuck jobs are handled one after another, and a dead worker never answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cleanup_script = self.redis.register_script(_SWEEP_CANDIDATES)

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
    """Touch the running job so that sweeps know its worker lives. A failed touch is tried again on
    the next beat; only touches missed for a whole heartbeat would let a sweep run the job again."""
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
