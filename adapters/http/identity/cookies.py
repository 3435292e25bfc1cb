"""The browser-session cookies (API §10.2): what they hold, their attributes, and clearing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from litestar.datastructures import Cookie

from adapters.http.ratelimit import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from domain.identity.model import TokenPair

REFRESH_PATH = "/api/v1/auth"  # the refresh cookie goes only to the routes that use it


@dataclass(frozen=True, slots=True, kw_only=True)
class CookiePolicy:
    secure: bool
    domain: str | None
    samesite: str
    access_seconds: int
    refresh_seconds: int

    def _cookie(self, key: str, value: str, max_age: int, *, path: str = "/", httponly: bool = True) -> Cookie:
        return Cookie(
            key=key,
            value=value,
            max_age=max_age,
            path=path,
            domain=self.domain,
            secure=self.secure,
            httponly=httponly,
            samesite=cast(Literal["lax", "strict", "none"], self.samesite),
        )

    def signed_in(self, tokens: TokenPair, csrf: str) -> list[Cookie]:
        return [
            self._cookie(ACCESS_COOKIE, tokens.access_token, self.access_seconds),
            self._cookie(REFRESH_COOKIE, tokens.refresh_token, self.refresh_seconds, path=REFRESH_PATH),
            # Read by the page's script, which echoes it in `X-CSRF-Token`.
            self._cookie(CSRF_COOKIE, csrf, self.refresh_seconds, httponly=False),
        ]

    def cleared(self) -> list[Cookie]:
        return [
            self._cookie(ACCESS_COOKIE, "", 0),
            self._cookie(REFRESH_COOKIE, "", 0, path=REFRESH_PATH),
            self._cookie(CSRF_COOKIE, "", 0, httponly=False),
        ]
