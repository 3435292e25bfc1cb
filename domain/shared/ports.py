"""Ports every context may use: key-value store, job queue, mailer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

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
    async def exists(self, *keys: str) -> int:
        """How many of `keys` exist."""
        ...

    async def hit(self, key: str, window: float) -> WindowHit:
        """Count one event in a fixed window that opens with the first event."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class JobQueue(Protocol):
    """Background jobs; `name` is one of the registered job functions."""

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None: ...
    async def ping(self) -> None: ...


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...
