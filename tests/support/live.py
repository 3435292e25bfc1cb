"""In-process clients of the live transports (API §13): a WebSocket and a Server-Sent Events stream
driven straight through the application's ASGI interface, in the test's own event loop (so they
share its container, database and fake clock)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from adapters.sql.integrations import OUTBOX
from tests.support.api import Api

WAIT = 5.0


async def drained(api: Api) -> None:
    """Every event committed so far consumed: made into notifications and relayed to webhooks
    (another relayer, woken by the commit, may hold some for a moment: wait for it)."""
    unconsumed = OUTBOX.c.notified_at.is_(None) | OUTBOX.c.relayed_at.is_(None)
    waiting = select(func.count()).select_from(OUTBOX).where(unconsumed)
    for _ in range(100):
        await api.container.relay.once()
        async with api.container.engine.connect() as conn:
            if (await conn.execute(waiting)).scalar_one() == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("events are still waiting to be notified")


async def _finished(task: asyncio.Task[Any]) -> None:
    """Let the application's side end, or end it when it does not within WAIT seconds."""
    try:
        await asyncio.wait_for(task, WAIT)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class SocketClient:
    """One WebSocket: what the server sent (`received`), and its close code once it closed."""

    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    accepted: bool = False
    close_code: int | None = None
    close_reason: str = ""
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_json(self, body: Any) -> None:
        await self.outbox.put({"type": "websocket.receive", "text": json.dumps(body)})

    async def send_text(self, text: str) -> None:
        await self.outbox.put({"type": "websocket.receive", "text": text})

    async def receive_json(self, timeout: float = WAIT) -> Any:
        """The next text message, decoded; fails when none comes in `timeout` or the socket closed."""
        message = await asyncio.wait_for(self.inbox.get(), timeout)
        assert message["type"] == "websocket.send", f"closed: {self.close_code} {self.close_reason}"
        return json.loads(message["text"])

    async def nothing(self, within: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            message = await asyncio.wait_for(self.inbox.get(), within)
            raise AssertionError(f"unexpected {message}")

    async def wait_closed(self, timeout: float = WAIT) -> int:
        await asyncio.wait_for(self.closed.wait(), timeout)
        assert self.close_code is not None
        return self.close_code


@contextlib.asynccontextmanager
async def websocket(app: Any, path: str = "/api/v1/ws", **query: str) -> AsyncIterator[SocketClient]:
    client = SocketClient()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "http_version": "1.1",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(query).encode(),
        "headers": [(b"host", b"testserver.local")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "subprotocols": [],
        "state": {},
    }
    await client.outbox.put({"type": "websocket.connect"})

    async def receive() -> dict[str, Any]:
        return await client.outbox.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.accept":
            client.accepted = True
        elif message["type"] == "websocket.close":
            client.close_code, client.close_reason = message.get("code", 1000), message.get("reason") or ""
            client.closed.set()
            await client.inbox.put(message)
        else:
            await client.inbox.put(message)

    task = asyncio.create_task(app(scope, receive, send))
    try:
        yield client
    finally:
        await client.outbox.put({"type": "websocket.disconnect", "code": 1000})
        await _finished(task)
        client.closed.set()


@dataclass
class EventStream:
    """One Server-Sent Events response: its status and headers, and its events as they come."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    chunks: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    buffer: str = ""
    body: bytes = b""

    async def next_event(self, timeout: float = WAIT) -> dict[str, str]:
        """The next event or comment block as its fields (`id`, `data`, `:` for a comment)."""
        while "\r\n\r\n" not in self.buffer and "\n\n" not in self.buffer:
            chunk = await asyncio.wait_for(self.chunks.get(), timeout)
            if chunk is None:
                raise EOFError("the stream ended")
            self.buffer += chunk.decode()
        sep = "\r\n\r\n" if "\r\n\r\n" in self.buffer else "\n\n"
        block, self.buffer = self.buffer.split(sep, 1)
        fields: dict[str, str] = {}
        for line in block.replace("\r\n", "\n").split("\n"):
            name, _, value = line.partition(":")
            fields[name or ":"] = fields.get(name or ":", "") + value.strip()
        return fields

    async def next_message(self, timeout: float = WAIT) -> tuple[str, dict[str, Any]]:
        """The next message event (comments skipped): its `id:` and decoded `data:`."""
        while True:
            fields = await self.next_event(timeout)
            if "data" in fields:
                return fields.get("id", ""), json.loads(fields["data"])

    async def ended(self, timeout: float = WAIT) -> None:
        while True:
            chunk = await asyncio.wait_for(self.chunks.get(), timeout)
            if chunk is None:
                return


@contextlib.asynccontextmanager
async def event_stream(
    app: Any, headers: dict[str, str], path: str = "/api/v1/notifications/stream", query: str = ""
) -> AsyncIterator[EventStream]:
    stream = EventStream()
    gone = asyncio.Event()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver.local")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            stream.status = message["status"]
            stream.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            stream.started.set()
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if stream.status != 200:
                stream.body += body
            elif body:
                await stream.chunks.put(body)
            if not message.get("more_body"):
                await stream.chunks.put(None)

    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(stream.started.wait(), WAIT)
        yield stream
    finally:
        gone.set()
        await _finished(task)
