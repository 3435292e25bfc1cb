"""Method routing: route-table repairs applied once the application is built, and HEAD."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

from adapters.http.asgi import App, Message, Receive, Scope, Send


def answer_options_with_every_method(app: Litestar) -> None:
    """Give every path an `OPTIONS` answer whose `Allow` lists all of its methods.

    Litestar makes the automatic `OPTIONS` handler with the first group of handlers registered
    at a path; handlers merged in later (GET beside POST on `/courses`) were missing from `Allow`.
    The handler is also owned by the app itself, so a controller's guards do not turn a method
    discovery into a 401.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        current = route.route_handler_map.get("OPTIONS")
        if current is None or current[0].handler_name != "options_handler":
            continue  # a route of ours answers OPTIONS itself
        handler = route.create_options_handler(route.path)
        handler.owner = app
        handler.on_registration(app)
        route.route_handlers = [h for h in route.route_handlers if h is not current[0]] + [handler]
        route.route_handler_map["OPTIONS"] = (
            handler,
            handler.create_kwargs_model(path_parameters=route.path_parameters),
        )


def resolve_dependencies_in_turn(app: Litestar) -> None:
    """Resolve each route's dependencies one after another.

    Litestar resolves two or more dependencies of the same level in an anyio task group, a task
    each, so that their I/O may overlap. Ours do none (the principal the guard found, the paging
    parameters, services from the app), so the task group is pure cost: a route with two of them
    (`my-courses`: the principal and the page) spent more on it than on either dependency. The
    order stays a valid one: each level's dependencies still come before the next level's.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _, kwargs_model in route.route_handler_map.values():
            kwargs_model.dependency_batches = [{d} for batch in kwargs_model.dependency_batches for d in batch]


class HeadMiddleware:
    """`HEAD` on every `GET` route (RFC 9110 §9.3.2): the route runs as `GET` and its headers go
    out unchanged (`Content-Length` included), without the body. `Allow` headers (on `405` and
    `OPTIONS` answers) name `HEAD` wherever they name `GET`."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _headless(send))
        elif method == "OPTIONS":
            await self.app(scope, receive, _allowing_head(send))
        else:
            await self.app(scope, receive, _allowing_head(send, only_status=405))


def _headless(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.start":
            _add_head(message)
            await send(message)
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            await send({"type": "http.response.body", "body": b""})
        elif message["type"] != "http.response.body":
            await send(message)

    return send_headers_only


def _allowing_head(send: Send, only_status: int | None = None) -> Send:
    async def send_allow(message: Message) -> None:
        if message["type"] == "http.response.start" and (only_status is None or message["status"] == only_status):
            _add_head(message)
        await send(message)

    return send_allow


def _add_head(message: Message) -> None:
    headers = message.get("headers", [])
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"allow" and b"GET" in value and b"HEAD" not in value:
            methods = sorted({m.strip() for m in value.split(b",")} | {b"HEAD"})
            headers[index] = (name, b", ".join(methods))
