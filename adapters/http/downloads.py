"""A download's answer: a 307 to a signed URL, or the bytes streamed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Stream

from domain.shared.downloads import Served

SIGNED_REDIRECT = ResponseSpec(data_container=None, description="A signed, expiring URL on the cloud store")


def download_response(served: Served, *, media_type: str, headers: Mapping[str, str]) -> Response[Any]:
    """`headers` go with the streamed bytes; a redirect is never cached (its URL expires)."""
    if served.redirect_to is not None:
        return Redirect(served.redirect_to, status_code=307, headers={"Cache-Control": "no-store"})
    assert served.chunks is not None
    return Stream(served.chunks, media_type=media_type, headers=dict(headers))
