"""The clock port: all time in the domain is UTC and timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` (API §1.3), as event payloads carry times."""
    return moment.isoformat().replace("+00:00", "Z")
