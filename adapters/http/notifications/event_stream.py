"""Server-Sent Events as Litestar sends them, in what a stream that waits for hours should cost.

Litestar streams a response in a task group: one task sends, another waits for the client to go.
An event stream is held open by thousands of clients at once, mostly waiting, so here the request's
own task sends and a single waiting receive cancels it when the client goes (the cancellation
reaches the stream's generator, whose `finally` blocks let go of what it held).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.response import ServerSentEvent
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Streaming(ASGIStreamingResponse):
    __slots__ = ()  # the same layout as Litestar's: a response it built can become one of these

    async def send_body(self, send: Send, receive: Receive) -> None:
        task = asyncio.current_task()
        assert task is not None
        streaming = True

        def gone(_: asyncio.Future[None]) -> None:
            if streaming:
                task.cancel()

        waiting = asyncio.ensure_future(_until_disconnected(receive))
        waiting.add_done_callback(gone)
        try:
            await self._stream(send)
        except asyncio.CancelledError:
            if not waiting.done() or waiting.cancelled():
                raise  # cancelled from outside (the server stopping), not by the client going
            task.uncancel()
        finally:
            streaming = False
            waiting.remove_done_callback(gone)
            waiting.cancel()


class LiveEventStream(ServerSentEvent):
    """`ServerSentEvent`, sent by `_Streaming`."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        built = super().to_asgi_response(app, request, **kwargs)
        assert isinstance(built, ASGIStreamingResponse)
        built.__class__ = _Streaming  # Litestar's headers, cookies and iterator; our way of sending
        return built
