"""Counters that adapters keep for operators (`/metrics`), behind a port so no adapter depends on
the metrics library. Each counter is made once, with its labels, and incremented on the hot path."""

from __future__ import annotations

from typing import Protocol


class Counter(Protocol):
    def inc(self, amount: float = 1.0) -> None: ...


class Meter(Protocol):
    def counter(self, name: str, **labels: str) -> Counter:
        """The counter `name` with these labels (the same object for the same name and labels)."""
        ...


class _Uncounted:
    def inc(self, amount: float = 1.0) -> None:
        return None


class NullMeter:
    """Counts nothing: for adapters built without metrics (tests, one-off commands)."""

    def counter(self, name: str, **labels: str) -> Counter:
        return _Uncounted()


NULL_METER = NullMeter()
