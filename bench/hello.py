"""The ceiling: a bare Litestar hello-world, served by granian exactly as `lms run` serves the API.
It also holds idle live connections the bare way (a WebSocket that waits for the client to go, an
event stream that sends a heartbeat comment every 15 seconds), the baseline for `bench/live.py`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.response import ServerSentEvent, ServerSentEventMessage


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"status": "ok"}


@websocket("/ws")
async def idle_socket(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    try:
        while True:
            await socket.receive_data("text")
    except WebSocketDisconnect:
        return


async def _heartbeats() -> AsyncIterator[ServerSentEventMessage]:
    yield ServerSentEventMessage(data=None, comment="connected")
    while True:
        await asyncio.sleep(15)
        yield ServerSentEventMessage(data=None, comment="heartbeat")


@get("/stream")
async def idle_stream() -> ServerSentEvent:
    return ServerSentEvent(_heartbeats(), retry_duration=2_000)


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, idle_socket, idle_stream], openapi_config=None)
