"""An object handed to a client: a signed URL on the cloud stores, or its bytes streamed by the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from domain.shared.errors import NotFound
from domain.shared.ports import ObjectMissing, ObjectStorage


@dataclass(frozen=True, slots=True)
class Served:
    """Either a signed URL to redirect to, or the bytes to stream."""

    redirect_to: str | None = None
    chunks: AsyncIterator[bytes] | None = None


async def serve(storage: ObjectStorage, key: str, expires_in: int, *, missing: str) -> Served:
    """A signed URL valid `expires_in` seconds where the store makes one, else the stream;
    `404 <missing>` when the object is not there."""
    url = await storage.signed_url(key, expires_in)
    if url is not None:
        return Served(redirect_to=url)
    try:
        return Served(chunks=await storage.open(key))
    except ObjectMissing:
        raise NotFound(missing) from None
