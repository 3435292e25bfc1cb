"""Ports every context may use: key-value store, cache, job queue, mailer, object storage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.shared.errors import Unavailable


class KeyValueUnavailable(Unavailable):
    """The key-value store could not be reached."""

    def __init__(self, detail: str = "Key-value store unavailable") -> None:
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class WindowHit:
    """Result of counting one event in a fixed window."""

    count: int
    reset_after: float  # seconds until the window closes


class KeyValueStore(Protocol):
    """Short-lived shared state with expiry. Every method raises KeyValueUnavailable when down."""

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: float) -> None: ...
    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool: ...
    async def pop(self, key: str) -> str | None:
        """Atomically read and delete; only one of several racing callers gets the value."""
        ...

    async def delete(self, *keys: str) -> None: ...
    async def replace_if(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        """Compare and set: if `key` holds `expected`, set it to `value` for `ttl` seconds (or
        delete it when `value` is None) and answer True; otherwise change nothing. Atomic."""
        ...

    async def exists(self, *keys: str) -> int:
        """How many of `keys` exist."""
        ...

    async def hit(self, key: str, window: float) -> WindowHit:
        """Count one event in a fixed window that opens with the first event."""
        ...

    async def hit_and_count(self, key: str, window: float, *present: str) -> tuple[WindowHit, int]:
        """`hit(key, window)` and `exists(*present)` in one round trip."""
        ...

    async def get_many(self, *keys: str) -> list[str | None]:
        """The values of `keys`, in order (None where absent), in one round trip."""
        ...

    async def hit_and_get(self, key: str, window: float, *keys: str) -> tuple[WindowHit, list[str | None]]:
        """`hit(key, window)` and `get_many(*keys)` in one round trip."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Cached:
    """A cache read: the value, or None on a miss, and the namespace's generation at read time."""

    value: bytes | None
    stamp: int | None  # None: the cache could not be read, so do not fill it either


class Cache(Protocol):
    """Read-through cache of derived values, grouped in namespaces that writers invalidate.

    Filling is conditional: `put` stores only if the namespace has not been invalidated since the
    `get` that returned `stamp`. A reader that loaded old data before a write committed therefore
    cannot store it after the writer's invalidation. Failures are not raised: a broken cache
    reads as a miss and skips filling.
    """

    async def get(self, namespace: str, key: str) -> Cached: ...
    async def put(self, namespace: str, key: str, value: bytes, *, stamp: int, ttl: float) -> bool: ...
    async def fill(
        self,
        namespace: str,
        key: str,
        load: Callable[[], Awaitable[tuple[bytes, bool]]],
        *,
        stamp: int,
        ttl: float,
    ) -> bytes | None:
        """Fill an entry that `get` found cold (at generation `stamp`), with a single flight: one
        caller per entry runs `load` (per process on memory, across processes on Redis) and
        stores its value if `load` says it is shareable; callers that miss the same entry
        meanwhile wait briefly for that value instead of loading it again. Answers the value
        another caller loaded, or None when this caller ran `load` (its result is its answer)."""
        ...

    async def invalidate(self, *namespaces: str) -> None:
        """Make every entry of `namespaces` unreachable; raises KeyValueUnavailable when it could not."""
        ...

    async def close(self) -> None: ...


class JobQueue(Protocol):
    """Background jobs; `name` is one of the registered job functions."""

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None: ...
    async def ping(self) -> None: ...
    async def depth(self) -> dict[str, int]:
        """How many jobs are in each state (`queued`, `active`, …), for operators."""
        ...


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class ObjectMissing(Exception):
    """The store has no object under the key."""


class StorageUnavailable(Unavailable):
    """The object store failed or did not answer in time (HTTP 503)."""

    def __init__(self, detail: str = "File storage unavailable") -> None:
        super().__init__(detail)


class ObjectStorage(Protocol):
    """Objects by key. `provider` names the backend as FileResponse does (`local`, `memory`, `s3`,
    `azure`, `gcs`). Every method raises StorageUnavailable when the store fails or times out."""

    @property
    def provider(self) -> str: ...
    async def put(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str, *, disposition: str | None = None
    ) -> None:
        """Stream the chunks into the object (multipart on the cloud stores). The object is served
        with `content_type` and, when given, the `Content-Disposition` `disposition`, to whoever
        follows a signed URL. Raises StorageUnavailable."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Stream the object; raises ObjectMissing."""
        ...

    async def delete(self, key: str) -> None:
        """A missing object is not an error."""
        ...

    async def signed_url(self, key: str, expires_in: int) -> str | None:
        """A signed GET URL valid for `expires_in` seconds; None for stores the API streams itself."""
        ...

    async def ping(self) -> None: ...


class EmailChoices(Protocol):
    """Whether a user takes a kind of email (API §13 preferences; security emails never ask)."""

    async def wants_email(self, user_id: UUID, kind: str) -> bool: ...


class LiveFeed(Protocol):
    """Messages to the clients connected live to any API process (API §13), sent after the commit
    that caused them. Fire and forget: what a client must not miss is also in its inbox, which a
    reconnecting client replays."""

    def publish(self, channel: str, message: dict[str, Any]) -> None: ...


class NoLiveFeed:
    """A process nobody connects to live (a command-line task): messages go nowhere."""

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        return None
