"""`/api/v1/users`: the caller's profile and password, and user administration (API §5.3)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.bodies import given
from adapters.http.identity.schemas import PasswordChangeRequest, ProfileUpdate, UserCreate, UserResponse, UserUpdate
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, admin_only, authenticated, parse_uuid
from domain.identity.accounts import Accounts
from domain.identity.administration import UserAdministration
from domain.identity.model import Principal
from domain.identity.policy import NewUser
from domain.shared.pagination import PageParams


class UsersController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [authenticated]
    security = BEARER

    @get("/me", operation_id="get_my_profile", responses=errors(401, 429))
    async def get_me(self, principal: NamedDependency[Principal]) -> UserResponse:
        """The caller's profile."""
        return UserResponse.of(principal.user)

    @patch("/me", operation_id="update_my_profile", responses=errors(400, 401, 422, 429))
    async def update_me(
        self,
        data: JSONBody[ProfileUpdate],
        accounts: NamedDependency[Accounts],
        principal: NamedDependency[Principal],
    ) -> UserResponse:
        """Change the caller's `full_name`. Other members (role, email, …) are ignored."""
        return UserResponse.of(await accounts.update_profile(principal, full_name=given(data.full_name)))

    @post("/me/password", operation_id="change_my_password", status_code=204, responses=errors(401, 422, 429))
    async def change_password(
        self,
        data: JSONBody[PasswordChangeRequest],
        accounts: NamedDependency[Accounts],
        principal: NamedDependency[Principal],
    ) -> None:
        """Change the caller's password. Other sign-ins lose their refresh tokens; this one keeps working."""
        await accounts.change_password(principal, data.current_password, data.new_password)

    @get("/", operation_id="list_users", guards=[admin_only], responses=errors(401, 403, 422, 429))
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        user_admin: NamedDependency[UserAdministration],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[UserResponse]]:
        """All users, newest first (admin)."""
        page = await user_admin.list_users(principal.user, paging)
        return page_response(request, page, UserResponse.of)

    @post(
        "/", operation_id="create_user", status_code=201, guards=[admin_only], responses=errors(401, 403, 409, 422, 429)
    )
    async def create_user(
        self,
        data: JSONBody[UserCreate],
        user_admin: NamedDependency[UserAdministration],
        principal: NamedDependency[Principal],
    ) -> UserResponse:
        """Create a user of any role (admin)."""
        user = await user_admin.create_user(
            principal.user, NewUser(email=data.email, full_name=data.full_name, password=data.password, role=data.role)
        )
        return UserResponse.of(user)

    @get("/{user_id:str}", operation_id="get_user", guards=[admin_only], responses=errors(401, 403, 404, 422, 429))
    async def get_user(
        self,
        user_id: UuidPath,
        user_admin: NamedDependency[UserAdministration],
        principal: NamedDependency[Principal],
    ) -> UserResponse:
        """One user (admin)."""
        return UserResponse.of(await user_admin.get_user(principal.user, parse_uuid("user_id", user_id)))

    @post(
        "/{user_id:str}/unlock",
        operation_id="unlock_user",
        status_code=204,
        guards=[admin_only],
        responses=errors(401, 403, 404, 422, 429),
    )
    async def unlock_user(
        self, user_id: UuidPath, user_admin: NamedDependency[UserAdministration], principal: NamedDependency[Principal]
    ) -> None:
        """Lift a lock on the user's password sign-in at once (admin)."""
        await user_admin.unlock_user(principal.user, parse_uuid("user_id", user_id))

    @patch(
        "/{user_id:str}",
        operation_id="update_user",
        guards=[admin_only],
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def update_user(
        self,
        user_id: UuidPath,
        data: JSONBody[UserUpdate],
        user_admin: NamedDependency[UserAdministration],
        principal: NamedDependency[Principal],
    ) -> UserResponse:
        """Change a user's name, role, password or active flag (admin).

        Setting `password` signs the user out everywhere; `is_active=false` refuses their tokens.
        """
        user = await user_admin.update_user(
            principal.user,
            parse_uuid("user_id", user_id),
            full_name=given(data.full_name),
            role=given(data.role),
            password=given(data.password),
            is_active=given(data.is_active),
        )
        return UserResponse.of(user)
