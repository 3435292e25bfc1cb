"""The object store named by `LMS_STORAGE_URL`, through obstore. Cloud credentials and endpoints
come from each provider's standard environment (for example `AWS_ENDPOINT_URL` for an
S3-compatible server, `AZURE_STORAGE_*`, `GOOGLE_*`).

Every call to a cloud store is bounded: a connect timeout, a request timeout, and few retries
within the same budget, so a store that hangs costs a request seconds, not minutes. A call that
fails or times out (other than a missing object) is `StorageUnavailable`, which the API answers
with 503 as it does a database outage.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import obstore
from obstore.store import LocalStore, MemoryStore, from_url

from domain.shared.ports import ObjectMissing, StorageUnavailable
from domain.shared.telemetry import NULL_METER, Meter

PROVIDERS = {"file": "local", "memory": "memory", "s3": "s3", "az": "azure", "gs": "gcs"}
SIGNED = {"s3", "azure", "gcs"}  # the API redirects to these; it streams the others itself
SINGLE_PUT = 8 * 1024 * 1024  # larger objects are multipart uploads
# The option naming the endpoint a client talks to, per provider (for signing with a public one).
_ENDPOINT_OPTION = {"s3": "endpoint", "azure": "endpoint", "gcs": "base_url"}
# The prefix of each provider's environment, which also carries HTTP client options
# (`AWS_ALLOW_HTTP`, `AZURE_PROXY_URL`, …).
_ENVIRONMENT_PREFIX = {"s3": "AWS_", "azure": "AZURE_", "gcs": "GOOGLE_"}
_CLIENT_OPTIONS = (
    "allow_http", "allow_invalid_certificates", "connect_timeout", "default_content_type", "http1_only",
    "http2_keep_alive_interval", "http2_keep_alive_timeout", "http2_keep_alive_while_idle", "http2_only",
    "pool_idle_timeout", "pool_max_idle_per_host", "proxy_url", "proxy_ca_certificate", "proxy_excludes",
    "randomize_addresses", "read_timeout", "root_certificate", "timeout", "user_agent",
)  # fmt: skip
T = TypeVar("T")


def provider_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in PROVIDERS:
        raise ValueError(f"unsupported storage URL scheme {scheme!r}")
    return PROVIDERS[scheme]


def client_options(
    provider: str, connect_timeout: float, timeout: float, environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The HTTP client options of a cloud store: those the provider's environment sets (client
    options given in code replace the environment's, so they are carried over), with the timeouts."""
    prefix = _ENVIRONMENT_PREFIX[provider]
    found: dict[str, Any] = {
        option: environ[prefix + option.upper()] for option in _CLIENT_OPTIONS if prefix + option.upper() in environ
    }
    if provider == "gcs" and _plain_http_gcs(environ):
        found.setdefault("allow_http", "true")  # as the client does itself for such an endpoint
    found.update(connect_timeout=timedelta(seconds=connect_timeout), timeout=timedelta(seconds=timeout))
    return found


def _plain_http_gcs(environ: Mapping[str, str]) -> bool:
    """Whether the service-account key file points the client at a plain-HTTP endpoint
    (`gcs_base_url`, a GCS-compatible server)."""
    path = environ.get("GOOGLE_SERVICE_ACCOUNT") or environ.get("GOOGLE_SERVICE_ACCOUNT_PATH")
    if not path:
        return False
    try:
        base = json.loads(Path(path).read_text()).get("gcs_base_url", "")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(base, str) and base.startswith("http://")


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
    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        public_endpoint: str | None = None,
        meter: Meter = NULL_METER,
        **options: Any,
    ) -> None:
        self._provider = provider_of(url)
        if self._provider in SIGNED:
            options = {
                "client_options": client_options(self._provider, connect_timeout, timeout),
                # Retries stay within one request's budget (obstore's default keeps retrying for 3 min).
                "retry_config": {"max_retries": 2, "retry_timeout": timedelta(seconds=timeout)},
                **options,
            }
        self._store = _store(url, options)
        # Signing needs no request: a store configured with the endpoint browsers reach signs URLs
        # that point there.
        self._signer = self._store
        if public_endpoint and self._provider in SIGNED:
            self._signer = _store(url, {**options, _ENDPOINT_OPTION[self._provider]: public_endpoint})
        self._meter = meter

    @property
    def provider(self) -> str:
        return self._provider

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except FileNotFoundError:
            raise
        except Exception as exc:  # obstore's errors, timeouts, refused connections
            self._meter.counter("lms_storage_errors", operation=operation).inc()
            raise StorageUnavailable from exc

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str, *, disposition: str | None = None
    ) -> None:
        """Objects up to SINGLE_PUT bytes go in one request; larger ones stream as a multipart
        upload, so memory holds at most SINGLE_PUT bytes whatever the size. On the cloud stores the
        object keeps its type and, with `disposition`, its `Content-Disposition`: what a browser
        following a signed URL is answered with."""
        attributes: dict[str, str] | None = None
        if self._provider in SIGNED:  # local and memory stores keep no attributes (the record does)
            attributes = {"Content-Type": content_type}
            if disposition:
                attributes["Content-Disposition"] = disposition
        head = bytearray()
        async for chunk in chunks:
            head.extend(chunk)
            if len(head) > SINGLE_PUT:
                await self._put(key, _then(bytes(head), chunks), attributes)
                return
        await self._put(key, bytes(head), attributes)

    async def _put(self, key: str, data: bytes | AsyncIterator[bytes], attributes: dict[str, str] | None) -> None:
        """One request for bytes, a multipart upload for a stream."""
        single = False if isinstance(data, bytes) else None  # None: obstore's choice (multipart for streams)
        await self._call(
            "put", lambda: obstore.put_async(self._store, key, data, attributes=attributes, use_multipart=single)
        )

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await self._call("get", lambda: obstore.get_async(self._store, key))
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        return _bytes(result.stream())

    async def delete(self, key: str) -> None:
        try:
            await self._call("delete", lambda: obstore.delete_async(self._store, key))
        except FileNotFoundError:
            return

    async def signed_url(self, key: str, expires_in: int) -> str | None:
        if self._provider not in SIGNED:
            return None
        url: str = await self._call(
            "sign", lambda: obstore.sign_async(self._signer, "GET", key, timedelta(seconds=expires_in))
        )
        return url

    async def ping(self) -> None:
        await self._call("ping", lambda: obstore.list_with_delimiter_async(self._store, prefix="readiness-probe"))


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _bytes(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)
