"""The one retry policy for jobs, used by both queues: exponential backoff for about an hour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 12
    first_delay: float = 5.0
    max_delay: float = 600.0
    timeout: int = 120  # seconds one attempt may run
    # A running job is touched every `heartbeat / 3` seconds; one untouched for `heartbeat` seconds
    # (its worker died) is taken back and retried by another worker's sweep, run every `sweep` seconds.
    heartbeat: int = 15
    sweep: int = 5

    def delay(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))
