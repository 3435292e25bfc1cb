"""`/api/v1/auth/…-cookie` and `/auth/token-info`: browser sessions in cookies with CSRF (API §10.2)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.identity.auth_controller import challenge_response
from adapters.http.identity.cookies import CookiePolicy
from adapters.http.identity.schemas import (
    LoginRequest,
    MfaChallengeResponse,
    MfaLoginRequest,
    SignedInResponse,
    TokenInfoResponse,
    UserResponse,
)
from adapters.http.openapi import errors
from adapters.http.ratelimit import REFRESH_COOKIE, lockout_precheck
from adapters.http.security import BEARER, authenticated, csrf_of
from domain.identity.browser_sessions import BrowserSessions, BrowserSignIn, check_csrf, token_info
from domain.identity.model import Principal


def signed_in(outcome: BrowserSignIn, cookies: CookiePolicy) -> Response[SignedInResponse]:
    body = SignedInResponse(user=UserResponse.of(outcome.result.user))
    return Response(body, cookies=cookies.signed_in(outcome.result.tokens, outcome.csrf))


class BrowserSessionController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login-cookie", operation_id="login_cookie", status_code=200, responses=errors(401, 422, 429))
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        browser: NamedDependency[BrowserSessions],
        cookie_policy: NamedDependency[CookiePolicy],
    ) -> Response[SignedInResponse] | MfaChallengeResponse:
        """Sign in for a browser: the tokens come as `HttpOnly` cookies (`lms_access`,
        `lms_refresh`) with the `lms_csrf` cookie that unsafe requests echo in `X-CSRF-Token`.

        With MFA on, answers the `MfaChallengeResponse` to finish at `/auth/login-cookie/mfa`.
        """
        outcome = await browser.login(data.email, data.password, lockout_precheck(request.scope))
        if isinstance(outcome, BrowserSignIn):
            return signed_in(outcome, cookie_policy)
        return challenge_response(outcome)

    @post("/login-cookie/mfa", operation_id="login_cookie_mfa", status_code=200, responses=errors(401, 422, 429))
    async def login_mfa(
        self,
        data: JSONBody[MfaLoginRequest],
        browser: NamedDependency[BrowserSessions],
        cookie_policy: NamedDependency[CookiePolicy],
    ) -> Response[SignedInResponse]:
        """Finish a browser sign-in with the second factor; the cookies as `/auth/login-cookie`."""
        return signed_in(await browser.login_mfa(data.challenge_token, data.code), cookie_policy)

    @post("/refresh-cookie", operation_id="refresh_cookie", status_code=200, responses=errors(401, 403, 429))
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        browser: NamedDependency[BrowserSessions],
        cookie_policy: NamedDependency[CookiePolicy],
    ) -> Response[SignedInResponse]:
        """Rotate the cookies with the refresh cookie (and `X-CSRF-Token`), as `/auth/refresh`
        rotates tokens: the old refresh token stops working."""
        check_csrf(request.method, *csrf_of(request))
        return signed_in(await browser.refresh(request.cookies.get(REFRESH_COOKIE)), cookie_policy)

    @post(
        "/logout-cookie",
        operation_id="logout_cookie",
        status_code=204,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 429),
    )
    async def logout(
        self,
        principal: NamedDependency[Principal],
        browser: NamedDependency[BrowserSessions],
        cookie_policy: NamedDependency[CookiePolicy],
    ) -> Response[None]:
        """End the browser's sign-in (every token of it) and clear the cookies."""
        await browser.logout(principal)
        return Response(None, status_code=204, cookies=cookie_policy.cleared())

    @get(
        "/token-info",
        operation_id="get_token_info",
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 429),
    )
    async def token_info(self, principal: NamedDependency[Principal]) -> TokenInfoResponse:
        """Who the credential of this request speaks for, how it was presented, and until when."""
        return msgspec.convert(token_info(principal), TokenInfoResponse, from_attributes=True)
