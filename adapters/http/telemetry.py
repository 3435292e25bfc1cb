"""A logfire (OpenTelemetry) span per request, named by the route template; only installed
when traces are exported, so an unconfigured deployment pays nothing for it."""

from __future__ import annotations

import logfire

from adapters.http.asgi import App, Message, Receive, Scope, Send
from adapters.http.edge import request_id


class TracingMiddleware:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope.get("path_template") or scope["path"]
        with logfire.span(
            "{http.method} {http.route}",
            _span_name=f"{scope['method']} {route}",  # OpenTelemetry's HTTP server span name
            **{"http.method": scope["method"], "http.route": route, "request_id": request_id(scope)},
        ) as span:

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_wrapper)
