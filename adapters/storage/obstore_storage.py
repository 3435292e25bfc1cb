"""The object store named by `LMS_STORAGE_URL`, through obstore. Cloud credentials and endpoints
come from each provider's standard environment (for example `AWS_ENDPOINT_URL` for an
S3-compatible server, `AZURE_STORAGE_*`, `GOOGLE_*`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obstore
from obstore.store import LocalStore, MemoryStore, from_url

from domain.shared.ports import ObjectMissing

PROVIDERS = {"file": "local", "memory": "memory", "s3": "s3", "az": "azure", "gs": "gcs"}
SIGNED = {"s3", "azure", "gcs"}  # the API redirects to these; it streams the others itself
SINGLE_PUT = 8 * 1024 * 1024  # larger objects are multipart uploads


def provider_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in PROVIDERS:
        raise ValueError(f"unsupported storage URL scheme {scheme!r}")
    return PROVIDERS[scheme]


def _store(url: str, options: dict[str, Any]) -> Any:
    parts = urlsplit(url)
    if parts.scheme == "file":
        root = Path(parts.path)
        root.mkdir(parents=True, exist_ok=True)
        return LocalStore(root)
    if parts.scheme == "memory":
        return MemoryStore()
    return from_url(url, **options)


class ObstoreStorage:
    def __init__(self, url: str, **options: Any) -> None:
        self._provider = provider_of(url)
        self._store = _store(url, options)

    @property
    def provider(self) -> str:
        return self._provider

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Objects up to SINGLE_PUT bytes go in one request; larger ones stream as a multipart
        upload, so memory holds at most SINGLE_PUT bytes whatever the size."""
        # Local and memory stores keep no attributes (the record holds the MIME type anyway).
        attributes = {"Content-Type": content_type} if self._provider in SIGNED else None
        head = bytearray()
        async for chunk in chunks:
            head.extend(chunk)
            if len(head) > SINGLE_PUT:
                await obstore.put_async(self._store, key, _then(bytes(head), chunks), attributes=attributes)
                return
        await obstore.put_async(self._store, key, bytes(head), attributes=attributes, use_multipart=False)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await obstore.get_async(self._store, key)
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        return _bytes(result.stream())

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            return

    async def signed_url(self, key: str, expires_in: int) -> str | None:
        if self._provider not in SIGNED:
            return None
        url: str = await obstore.sign_async(self._store, "GET", key, timedelta(seconds=expires_in))
        return url

    async def ping(self) -> None:
        await obstore.list_with_delimiter_async(self._store, prefix="readiness-probe")


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _bytes(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)
