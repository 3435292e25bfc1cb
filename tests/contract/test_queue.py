"""The job-queue port: in-process tasks and SAQ (on Redis and on PostgreSQL) deliver the same jobs,
and retry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.queue.inprocess import InProcessQueue
from adapters.queue.retry import RetryPolicy
from adapters.queue.saq_queue import SaqQueue, stop_worker
from domain.shared.jobs import JobHandlers
from tests.support.databases import PostgresDatabases
from tests.support.servers import flush

FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1, timeout=5)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures_left = 0
        self.event = asyncio.Event()

    def handlers(self) -> JobHandlers:
        async def record(payload: dict[str, Any]) -> None:
            if self.failures_left > 0:
                self.failures_left -= 1
                raise RuntimeError("transient failure")
            self.calls.append(payload)
            self.event.set()

        return {"record": record}

    async def wait(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                self.event.clear()
                await self.event.wait()


@pytest.fixture(params=["redis", "postgresql"])
async def saq_url(request: pytest.FixtureRequest) -> str:
    """An empty SAQ queue's server: a flushed Redis, or a new PostgreSQL database."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        await flush(url)
        return url
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return await databases.create_empty()


@pytest.fixture(params=["inprocess", "saq-redis", "saq-postgresql"])
async def queue_and_recorder(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Recorder]]:
    recorder = Recorder()
    if request.param.startswith("saq"):
        if request.param == "saq-redis":
            url = request.getfixturevalue("redis_url")
            await flush(url)
        else:
            url = await request.getfixturevalue("postgres_databases").create_empty()
        queue = SaqQueue(url, retry=FAST_RETRY)
        await queue.connect()
        worker = queue.worker(recorder.handlers())
        task = asyncio.create_task(worker.start())
        yield queue, recorder
        await stop_worker(worker)
        task.cancel()
        await queue.close()
    else:
        inproc = InProcessQueue(recorder.handlers(), retry=FAST_RETRY)
        yield inproc, recorder
        await inproc.close()


async def test_jobs_run_with_their_payload(queue_and_recorder: tuple[Any, Recorder]) -> None:
    queue, recorder = queue_and_recorder
    await queue.ping()
    for i in range(5):
        await queue.enqueue("record", {"n": i, "text": "héllo"})
    await recorder.wait(5)
    assert sorted(c["n"] for c in recorder.calls) == [0, 1, 2, 3, 4]
    assert all(c["text"] == "héllo" for c in recorder.calls)


async def test_failed_jobs_are_retried(queue_and_recorder: tuple[Any, Recorder]) -> None:
    queue, recorder = queue_and_recorder
    recorder.failures_left = 2
    await queue.enqueue("record", {"n": 1})
    await recorder.wait(1)
    assert recorder.calls == [{"n": 1}]


def test_backoff_reaches_about_an_hour() -> None:
    policy = RetryPolicy()
    total = sum(policy.delay(a) for a in range(1, policy.attempts))
    assert 3000 <= total <= 4200
    assert policy.delay(1) == 5
    assert policy.delay(20) == policy.max_delay


async def test_a_long_job_is_kept_alive_by_its_heartbeat_and_runs_once(saq_url: str) -> None:
    """A job running past its heartbeat is touched while it runs, so a second worker's sweeps
    (every second here) never take it back; only a job whose worker died is retried."""
    policy = RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1, timeout=30, heartbeat=1, sweep=1)
    started: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> None:
        started.append(payload)
        await asyncio.sleep(2.5)
        done.set()

    queue = SaqQueue(saq_url, retry=policy)
    await queue.connect()
    workers = [queue.worker({"slow": slow}), queue.worker({"slow": slow})]
    tasks = [asyncio.create_task(w.start()) for w in workers]
    try:
        await queue.enqueue("slow", {"n": 1})
        async with asyncio.timeout(10):
            await done.wait()
        await asyncio.sleep(1.2)  # one more sweep round: nothing is retried
        assert started == [{"n": 1}]
    finally:
        for worker in workers:
            await stop_worker(worker)
        for task in tasks:
            task.cancel()
        await queue.close()


async def test_a_sweep_leaves_a_job_that_a_worker_is_just_starting(redis_url: str) -> None:
    """A worker moves a job to the active list, then marks it active: a sweep in between must not
    take it back (it would run twice); a job left there not active is swept by the next sweep."""
    await flush(redis_url)
    queue = SaqQueue(redis_url, retry=FAST_RETRY)
    await queue.connect()
    saq: Any = queue.queue
    try:
        await queue.enqueue("record", {"n": 1})
        (job_id,) = await saq.redis.lrange(saq._queued, 0, -1)
        await saq.redis.lmove(saq._queued, saq._active, "RIGHT", "LEFT")  # a worker mid-dequeue
        assert await saq.sweep(lock=1) == []
        await saq.redis.delete(saq._sweep)  # the next round
        assert await saq.sweep(lock=1) == [job_id.decode()]  # left over: swept, and retried
        assert await saq.redis.lrange(saq._active, 0, -1) == []
    finally:
        await queue.close()
