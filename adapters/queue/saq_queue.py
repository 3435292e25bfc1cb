"""The job queue on SAQ, on Redis or on PostgreSQL: the API enqueues, `lms worker` runs the jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from saq import CronJob, Job, Queue, Worker
from saq.queue.postgres import PostgresQueue
from saq.queue.redis import RedisQueue
from saq.types import PartialTimersDict

from adapters.queue.retry import RetryPolicy
from domain.shared.jobs import JobHandler, JobHandlers
from domain.shared.ports import KeyValueUnavailable
from domain.shared.telemetry import NULL_METER, Meter

QUEUE_NAME = "lms"
log = logging.getLogger("lms.worker")


class JobLogFilter(logging.Filter):
    """SAQ logs a failed job as its whole record (`Error processing job Job<…, kwargs: {…}>`), and
    a job's arguments may hold a reset link or a sign-in code. Each job in a SAQ log line is
    replaced by its function and id; nothing of its arguments is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, Job) for arg in record.args):
            record.args = tuple(_named(arg) if isinstance(arg, Job) else arg for arg in record.args)
        return True


def _named(job: Job) -> str:
    return f"{job.function} (job {job.id}, attempt {job.attempts})"


logging.getLogger("saq").addFilter(JobLogFilter())


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


class _PostgresQueue(PostgresQueue):
    """SAQ's PostgreSQL queue (its tables `saq_jobs`, `saq_stats` and `saq_versions` are made and
    migrated by SAQ on connecting). A dequeue marks the job active and touched in the same
    transaction that takes it, so its sweep has no window like the Redis one's; it waits 1 s for a
    stuck job's worker to acknowledge the abort, as on Redis."""

    async def sweep(self, lock: int = 60, abort: float = 1.0) -> list[str]:
        return await super().sweep(lock, abort)

    async def ping(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.split("+")[0] in {"postgresql", "postgres"}


def _libpq_url(url: str) -> str:
    """`postgresql+asyncpg://…` (the database URL's spelling) as libpq spells it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def saq_queue_of(url: str, name: str = QUEUE_NAME) -> Queue:
    """SAQ's queue for `url`: `postgresql://…` runs it on PostgreSQL, `redis://…` on Redis. A
    PostgreSQL queue opens a few connections (one listens for new jobs), and more while jobs run."""
    if _is_postgres(url):
        return _PostgresQueue.from_url(_libpq_url(url), name=name, min_size=2, max_size=20)
    return _RedisQueue.from_url(url, name=name)


class SaqQueue:
    def __init__(
        self, url: str, *, name: str = QUEUE_NAME, retry: RetryPolicy | None = None, meter: Meter = NULL_METER
    ) -> None:
        self.queue: Queue = saq_queue_of(url, name)
        self._retry = retry or RetryPolicy()
        self._meter = meter
        self._errors = meter.counter("lms_redis_errors", store="queue")

    @property
    def on_postgres(self) -> bool:
        return isinstance(self.queue, _PostgresQueue)

    async def connect(self) -> None:
        await self.queue.connect()

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        try:
            await self.queue.enqueue(
                name,
                payload=payload,
                retries=self._retry.attempts,
                retry_delay=self._retry.first_delay,
                retry_backoff=self._retry.max_delay,
                timeout=self._retry.timeout,
                heartbeat=self._retry.heartbeat,
            )
        except Exception:
            self._errors.inc()
            raise

    async def ping(self) -> None:
        try:
            if isinstance(self.queue, _PostgresQueue):  # (not `on_postgres`: the type narrows here)
                await self.queue.ping()
            else:
                await self.queue.redis.ping()  # type: ignore[attr-defined]
        except Exception as exc:
            self._errors.inc()
            server = "PostgreSQL" if self.on_postgres else "Redis"
            raise KeyValueUnavailable(f"queue {server} unavailable: {type(exc).__name__}") from exc

    async def depth(self) -> dict[str, int]:
        """Jobs by state: `queued` (waiting for a worker), `active` (running), `waiting` (scheduled
        for a later retry)."""
        try:
            queued = await self.queue.count("queued")
            active = await self.queue.count("active")
            incomplete = await self.queue.count("incomplete")
        except Exception:
            self._errors.inc()
            raise
        return {"queued": queued, "active": active, "waiting": max(0, incomplete - queued - active)}

    async def close(self) -> None:
        await self.queue.disconnect()

    def worker(
        self,
        handlers: JobHandlers,
        *,
        concurrency: int = 10,
        grace: float = 0.0,
        cron: Mapping[str, str] | None = None,
    ) -> Worker[Any]:
        """A SAQ worker running `handlers` on this queue; each run is counted by outcome. Stopped,
        it lets running jobs finish within `grace` seconds. `cron` schedules jobs by name (SAQ's
        cron: one run per time, whichever worker enqueues it first)."""

        every = self._retry.heartbeat / 3
        meter = self._meter

        def adapt(name: str, handler: JobHandler) -> Any:
            outcomes = {
                outcome: meter.counter("lms_jobs", job=name, outcome=outcome)
                for outcome in ("complete", "retried", "failed")
            }

            async def run(ctx: dict[str, Any], *, payload: dict[str, Any]) -> None:
                job: Job = ctx["job"]
                beating = asyncio.create_task(_beat(job, every))
                try:
                    await handler(payload)
                except Exception:
                    outcomes["retried" if job.retryable else "failed"].inc()
                    raise
                else:
                    outcomes["complete"].inc()
                finally:
                    beating.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await beating  # no touch may land after the worker records the outcome

            run.__qualname__ = name  # the job's name when SAQ's cron enqueues it
            return run

        adapted = {name: adapt(name, handler) for name, handler in handlers.items()}
        functions = list(adapted.items())
        cron_jobs = [CronJob(adapted[name], cron=spec, kwargs={"payload": {}}) for name, spec in (cron or {}).items()]
        # A bounded dequeue wait lets the worker notice a stop request promptly; the sweep interval
        # is also the lock SAQ takes so that one worker sweeps at a time.
        worker = _Worker(
            self.queue,
            functions=functions,
            concurrency=concurrency,
            cron_jobs=cron_jobs,
            dequeue_timeout=1.0,
            # SAQ's defaults but the sweep (its partial dict still types every key as required).
            timers=PartialTimersDict(schedule=1, worker_info=10, abort=1, sweep=self._retry.sweep),
        )
        worker.SIGNALS = []  # the owner stops it with stop_worker(), not SAQ's own signal handlers
        worker.grace = grace
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


class _Worker(Worker[Any]):
    """SAQ's worker, stopping gracefully: it takes no more jobs and lets the running ones finish
    within `grace` seconds before anything is cancelled (a cancelled job is retried).

    Taking no more jobs: once the worker's event is set, a dequeue loop that returns (each waits at
    most its dequeue timeout) starts no other; one that got a job just then runs it, within the
    grace like the rest. Running jobs keep their heartbeats, so no sweep takes them back meanwhile.
    SAQ's own `start` calls `stop` as soon as the event is set, so the wait is made there.
    """

    grace: float = 0.0
    _draining: asyncio.Future[None] | None = None

    async def drain(self) -> None:
        """Wait (once, however many callers ask) for the running jobs, within the grace."""
        self.event.set()
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain())
        await asyncio.shield(self._draining)

    async def _drain(self) -> None:
        processing = [task for task in self.tasks if task.get_name() == "process" and not task.done()]
        if self.grace <= 0 or not processing:
            return
        _, late = await asyncio.wait(processing, timeout=self.grace)
        if late:
            log.warning(
                "%d job(s) still running after the %.0f s shutdown grace; cancelling them", len(late), self.grace
            )

    async def stop(self) -> None:
        await self.drain()
        await super().stop()


async def stop_worker(worker: Worker[Any], poll: float = 0.05) -> None:
    """Stop a SAQ worker: gracefully first (see `_Worker`), then promptly.

    SAQ's upkeep loops can swallow the first cancellation inside a Redis call and then sleep for
    their whole timer (up to 60 s) before the worker finishes stopping; cancelling again until the
    stop completes ends them at once.
    """
    if isinstance(worker, _Worker):
        await worker.drain()
    tasks = list(worker.tasks)
    stopping = asyncio.create_task(worker.stop())
    while not stopping.done():
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.wait({stopping}, timeout=poll)
    await stopping
