"""Identifier generation: time-ordered UUIDv7 (RFC 9562), so new rows append to indexes.

Within one millisecond the 12-bit `rand_a` field is a counter (RFC 9562 §6.2, method 1), so ids
made by one process sort in creation order, which breaks ties between equal timestamps.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    """Return a fresh UUIDv7: 48 bits of Unix milliseconds, a 12-bit counter, 62 random bits."""
    global _last_ms, _counter  # noqa: PLW0603 (process-wide monotonic state, guarded by the lock)
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            millis = _last_ms
        else:
            _last_ms = millis
            _counter = int.from_bytes(os.urandom(1), "big") & 0x7F  # random start, room to count
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64  # rand_a as counter
    value |= 0b10 << 62  # variant
    value |= rand_b
    return uuid.UUID(int=value)
