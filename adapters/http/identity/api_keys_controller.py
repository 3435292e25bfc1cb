"""`/api/v1/api-keys`: keys for integrations (API §10.4)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from adapters.http.identity.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyResponse
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, authenticated, parse_uuid, require_roles
from domain.identity.api_keys import INSUFFICIENT, ApiKeys, NewApiKey
from domain.identity.model import ApiKey, Principal, Role
from domain.shared.pagination import PageParams

instructors_and_admins = require_roles(Role.INSTRUCTOR, Role.ADMIN, detail=INSUFFICIENT)


def key_response(key: ApiKey) -> ApiKeyResponse:
    return msgspec.convert(key, ApiKeyResponse, from_attributes=True)


class ApiKeysController(Controller):
    path = "/api-keys"
    tags = ["api-keys"]
    guards = [authenticated]
    security = BEARER

    @post(
        "/",
        operation_id="create_api_key",
        status_code=201,
        guards=[instructors_and_admins],
        responses=errors(400, 401, 403, 422, 429),
    )
    async def create(
        self, data: JSONBody[ApiKeyCreate], api_keys: NamedDependency[ApiKeys], principal: NamedDependency[Principal]
    ) -> ApiKeyCreated:
        """Create a key for an integration. The key itself is in this answer only: keep it safe.

        It acts as you, with your role at the time of each request, within its scopes.
        """
        created = await api_keys.create(principal.user, msgspec.convert(data, NewApiKey, from_attributes=True))
        fields = msgspec.structs.asdict(key_response(created.key))
        return ApiKeyCreated(**fields, key=created.secret)

    @get("/", operation_id="list_api_keys", guards=[instructors_and_admins], responses=errors(401, 403, 422, 429))
    async def list_keys(
        self,
        request: Request[Any, Any, Any],
        api_keys: NamedDependency[ApiKeys],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        every: Annotated[bool, QueryParameter(name="all", description="Every user's keys (admins only)")] = False,
    ) -> Response[PageResponse[ApiKeyResponse]]:
        """Your keys, newest first (admins: `?all=true` for every key). Secrets are never shown."""
        page = await api_keys.list(principal.user, paging, every=every)
        return page_response(request, page, key_response)

    @delete("/{key_id:str}", operation_id="revoke_api_key", status_code=204, responses=errors(401, 403, 404, 422, 429))
    async def revoke(
        self, key_id: UuidPath, api_keys: NamedDependency[ApiKeys], principal: NamedDependency[Principal]
    ) -> None:
        """Revoke a key (yours, whatever your role now, or any as an admin): it is refused from the
        next request on, in every process."""
        await api_keys.revoke(principal.user, parse_uuid("key_id", key_id))
