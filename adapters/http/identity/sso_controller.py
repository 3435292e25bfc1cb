"""`/api/v1/auth/sso/…` and `/api/v1/users/me/identities`: single sign-on (API §10.3)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import Redirect

from adapters.http.identity.auth_controller import auth_response, challenge_response
from adapters.http.identity.schemas import (
    AuthResponse,
    IdentityResponse,
    MfaChallengeResponse,
    SsoExchangeRequest,
    SsoProviderResponse,
)
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, authenticated
from domain.identity.model import LinkedIdentity, MfaChallenge, Principal
from domain.identity.ports import IdentityProvider
from domain.identity.single_sign_on import SingleSignOn
from domain.shared.pagination import PageParams, page_of_list

Provider = Parameter(description="A provider's name, as `GET /auth/sso/providers` lists it", max_length=32)


def provider_response(provider: IdentityProvider) -> SsoProviderResponse:
    return SsoProviderResponse(name=provider.name, display_name=provider.display_name)


def identity_response(identity: LinkedIdentity) -> IdentityResponse:
    return msgspec.convert(identity, IdentityResponse, from_attributes=True)


class SingleSignOnController(Controller):
    path = "/auth/sso"
    tags = ["auth"]

    @get("/providers", operation_id="list_sso_providers", responses=errors(422, 429))
    async def providers(
        self,
        request: Request[Any, Any, Any],
        single_sign_on: NamedDependency[SingleSignOn],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[SsoProviderResponse]]:
        """The identity providers people can sign in with, in the order the operator lists them."""
        page = page_of_list(single_sign_on.listed(), paging, lambda provider: (provider.name,))
        return page_response(request, page, provider_response)

    @get("/{provider:str}/authorize", operation_id="start_sso", status_code=302, responses=errors(400, 404, 422, 429))
    async def authorize(
        self,
        request: Request[Any, Any, Any],
        single_sign_on: NamedDependency[SingleSignOn],
        redirect_uri: str = Parameter(description="A front-end URL the operator listed, where the flow ends"),
        provider: str = Provider,
    ) -> Redirect:
        """Start signing in with the provider: a redirect to its authorization page (PKCE, state,
        nonce). The flow ends at `redirect_uri` with `?code=` for `POST /auth/sso/exchange`, or
        `?error=`."""
        callback = str(request.url_for("finish_sso", provider=provider))
        return Redirect(await single_sign_on.start(provider, redirect_uri, callback), status_code=302)

    @get(
        "/{provider:str}/callback",
        name="finish_sso",
        operation_id="finish_sso",
        status_code=302,
        responses=errors(400, 404, 422, 429),
    )
    async def callback(
        self,
        single_sign_on: NamedDependency[SingleSignOn],
        provider: str = Provider,
        flow: Annotated[str, QueryParameter(name="state", max_length=256)] = "",
        code: str | None = Parameter(default=None, max_length=2048),
        error: str | None = Parameter(default=None, max_length=256),
    ) -> Redirect:
        """Where the provider sends the browser back: on to the front end with a one-time code."""
        return Redirect(await single_sign_on.finish(provider, flow, code, error), status_code=302)

    @post("/exchange", operation_id="exchange_sso_code", status_code=200, responses=errors(401, 422, 429))
    async def exchange(
        self, data: JSONBody[SsoExchangeRequest], single_sign_on: NamedDependency[SingleSignOn]
    ) -> AuthResponse | MfaChallengeResponse:
        """Tokens for the one-time code of a finished sign-in (once, within 60 s)."""
        outcome = await single_sign_on.exchange(data.code)
        return challenge_response(outcome) if isinstance(outcome, MfaChallenge) else auth_response(outcome)


class IdentitiesController(Controller):
    path = "/users/me/identities"
    tags = ["users"]
    guards = [authenticated]
    security = BEARER

    @get("/", operation_id="list_my_identities", responses=errors(401, 422, 429))
    async def list_identities(
        self,
        request: Request[Any, Any, Any],
        single_sign_on: NamedDependency[SingleSignOn],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[IdentityResponse]]:
        """The identity providers your account signs in with."""
        return page_response(request, await single_sign_on.identities(principal, paging), identity_response)

    @delete("/{provider:str}", operation_id="unlink_my_identity", status_code=204, responses=errors(401, 404, 409, 429))
    async def unlink(
        self,
        single_sign_on: NamedDependency[SingleSignOn],
        principal: NamedDependency[Principal],
        provider: str = Provider,
    ) -> None:
        """Stop signing in with a provider; refused when it is your only way in (no password)."""
        await single_sign_on.unlink(principal, provider)
