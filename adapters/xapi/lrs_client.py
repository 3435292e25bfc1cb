"""xAPI statements to an LRS with httpx (API §15.1): Basic auth, the xAPI version header, a bounded
timeout, redirects not followed, failures as results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx

from domain.integrations.model import SendResult

TIMEOUT_SECONDS = 5.0
VERSION = "1.0.3"


class HttpxLearningRecordStore:
    def __init__(
        self, url: str, *, username: str | None, password: str | None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        """`url`: the LRS's endpoint; statements go to `<url>/statements`."""
        self._statements = url.rstrip("/") + "/statements"
        self._timeout = timeout
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            auth=auth,
            headers={"X-Experience-API-Version": VERSION, "Content-Type": "application/json"},
        )

    async def _call(self, method: str, body: Any, params: dict[str, str] | None = None) -> SendResult:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.request(method, self._statements, content=content, params=params)
        except TimeoutError:
            return SendResult(error=f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return SendResult(error=f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(status_code=response.status_code)

    async def send(self, statements: Sequence[dict[str, Any]]) -> SendResult:
        return await self._call("POST", list(statements))

    async def put(self, statement: dict[str, Any]) -> SendResult:
        return await self._call("PUT", statement, params={"statementId": str(statement["id"])})

    async def close(self) -> None:
        await self._client.aclose()
