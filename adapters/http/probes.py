"""The worker's own HTTP endpoint: `/health` (liveness), `/ready` (its database and queue) and
`/metrics`, for orchestrators' probes and Prometheus.

A worker serves no API, so this is a few lines of HTTP/1.1 on asyncio rather than an application
server: one request per connection, `GET` only, headers read within a few seconds and capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

import msgspec

from adapters.http.metrics import Metrics, scrape_refusal
from adapters.http.problems import problem_document
from adapters.http.system import Readiness

log = logging.getLogger("lms.worker")

_HEAD_LIMIT = 8192
_READ_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    method: str
    path: str
    authorization: bytes
    client: str | None


Answer = tuple[int, str, bytes]  # status, content type, body


class ProbeServer:
    def __init__(
        self,
        *,
        alive: Callable[[], bool],
        readiness: Callable[[], Awaitable[Readiness]],
        metrics: Metrics,
        metrics_token: str | None,
        private_only: bool,
    ) -> None:
        self.alive = alive
        self.readiness = readiness
        self.metrics = metrics
        self.metrics_token = metrics_token
        self.private_only = private_only
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (the one the system chose when `port` is 0)."""
        self._server = await asyncio.start_server(self._connection, host, port, limit=_HEAD_LIMIT)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def answer(self, request: ProbeRequest) -> Answer:
        if request.method not in ("GET", "HEAD"):
            return _problem(405, "Method Not Allowed")
        if request.path == "/health":
            if not self.alive():
                return _problem(503, "The worker has stopped taking jobs")
            return 200, "application/json", b'{"status":"ok"}'
        if request.path == "/ready":
            result = await self.readiness()
            status = 200 if result.status == "ok" else 503  # a worker without its queue does nothing
            return status, "application/json", msgspec.json.encode(result)
        if request.path == "/metrics":
            refused = scrape_refusal(self.metrics_token, self.private_only, request.authorization, request.client)
            if refused is not None:
                return _problem(*refused)
            await self.metrics.refresh()
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition()
        return _problem(404, "Not Found")

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(_read(reader, writer), _READ_SECONDS)
            answer = _problem(400, "Bad Request") if request is None else await self.answer(request)
            status, media_type, body = answer
            head = (
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {media_type}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if request is not None and request.method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that went away or never finished its request gets nothing
        except Exception:
            log.exception("the worker's probe endpoint failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> ProbeRequest | None:
    head = await reader.readuntil(b"\r\n\r\n")  # LimitOverrunError past _HEAD_LIMIT
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    authorization = b""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            authorization = value.strip().encode("latin-1")
    peer = writer.get_extra_info("peername")
    return ProbeRequest(
        method=parts[0],
        path=parts[1].split("?", 1)[0],
        authorization=authorization,
        client=str(peer[0]) if peer else None,
    )


def _problem(status: int, detail: str) -> Answer:
    return status, "application/problem+json", msgspec.json.encode(problem_document(status, detail))
