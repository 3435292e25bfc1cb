"""The one retry policy for jobs, used by both queues: exponential backoff for about an hour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 12
    first_delay: float = 5.0
    max_delay: float = 600.0
    timeout: int = 120  # seconds one attempt may run

    def delay(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))
