"""The ceiling: a bare Litestar hello-world, served by granian exactly as `lms run` serves the API."""

from __future__ import annotations

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello], openapi_config=None)
