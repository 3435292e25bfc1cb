"""Invalidating cached reads after a write commits: the one way every context does it."""

from __future__ import annotations

import logging

from domain.shared.ports import Cache

log = logging.getLogger("lms.cache")


async def invalidate(cache: Cache, *namespaces: str) -> None:
    """After commit. One retry; if the cache stays unreachable its entries expire within their TTL."""
    for attempt in (1, 2):
        try:
            await cache.invalidate(*namespaces)
            return
        except Exception:
            if attempt == 2:
                log.exception("cache invalidation failed for %s", ", ".join(namespaces))
