"""Webhook POSTs with httpx: a bounded timeout, redirects not followed, failures as results."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from domain.integrations.model import SendResult

TIMEOUT_SECONDS = 5.0


class HttpxWebhookSender:
    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        # One pooled client for every delivery; the timeout bounds the whole attempt, not each read.
        self._timeout = timeout
        self._client = httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(timeout), trust_env=False)

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(url, content=body, headers=dict(headers))
        except TimeoutError:
            return SendResult(error=f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return SendResult(error=f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(status_code=response.status_code)

    async def close(self) -> None:
        await self._client.aclose()
