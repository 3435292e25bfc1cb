"""Route-table repairs applied once the application is built."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


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
