"""Cache reads counted for `/metrics`, the same way on every cache."""

from __future__ import annotations

from domain.shared.ports import Cached
from domain.shared.telemetry import Meter


class CacheReads:
    """Cache reads counted by result: `hit`, `miss`, or `error` (the cache could not be read)."""

    def __init__(self, meter: Meter) -> None:
        self._hit = meter.counter("lms_cache_requests", result="hit")
        self._miss = meter.counter("lms_cache_requests", result="miss")
        self._error = meter.counter("lms_cache_requests", result="error")

    def count(self, read: Cached) -> Cached:
        (self._error if read.stamp is None else self._miss if read.value is None else self._hit).inc()
        return read
