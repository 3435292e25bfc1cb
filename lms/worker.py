"""`lms worker`: the SAQ worker, the outbox relay, and the worker's health and metrics endpoint.

On SIGTERM or SIGINT the worker takes no more jobs, lets the running ones finish within
`LMS_WORKER_SHUTDOWN_GRACE_SECONDS`, and only then exits: a job that outlives the grace is cancelled
and retried by another worker, so nothing is lost, and nothing half-done is repeated unless the
grace ran out.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from adapters.http.probes import ProbeServer
from adapters.http.system import readiness_of
from adapters.queue.saq_queue import SaqQueue, stop_worker
from lms.bootstrap import SCHEDULED, build_container
from lms.settings import Settings

log = logging.getLogger("lms.worker")


async def run_worker(settings: Settings, *, http_host: str, http_port: int) -> None:
    container = build_container(settings, role="worker")
    queue = container.queue
    assert isinstance(queue, SaqQueue)
    probes: ProbeServer | None = None
    try:
        await queue.connect()
        grace = float(settings.worker_shutdown_grace_seconds)
        worker = queue.worker(container.handlers, grace=grace, cron=SCHEDULED)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(worker.start(), name="saq-worker")
        if http_port:
            probes = ProbeServer(
                alive=lambda: not running.done() and not stop.is_set(),
                readiness=readiness_of(container.ping_database, container.redis_pings(), None),
                metrics=container.metrics,
                metrics_token=settings.metrics_token,
                private_only=settings.is_production,
            )
            port = await probes.start(http_host, http_port)
            log.info("health and metrics at http://%s:%d/health, /ready and /metrics", http_host, port)
        await container.live.start()  # what the worker relays reaches the API processes' clients
        container.relay.start()  # the outbox relay, beside the API processes' own
        log.info("worker started on queue %r", queue.queue.name)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, running}, return_when=asyncio.FIRST_COMPLETED)
        if running.done() and not stop.is_set():
            stopping.cancel()
            running.result()  # SAQ's loop ended on its own: say why
            return
        log.info(
            "stopping: no more jobs are taken; running ones have %d s to finish",
            settings.worker_shutdown_grace_seconds,
        )
        await stop_worker(worker)
        running.cancel()
    finally:
        if probes is not None:
            await probes.close()
        await container.close()
