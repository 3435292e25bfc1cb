"""`/api/v1/users/…`: a person's data exported, and the person erased (API §15.3)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from adapters.http.downloads import SIGNED_REDIRECT, download_response
from adapters.http.openapi import errors
from adapters.http.privacy.schemas import EraseMeRequest, ExportAccepted, ExportResponse
from adapters.http.security import BEARER, UuidPath, admin_only, authenticated, erasure_of, exports_of, parse_uuid
from domain.files.model import attachment
from domain.identity.model import Principal
from domain.privacy.model import DataExport

ZIP = ResponseSpec(data_container=bytes, media_type="application/zip", description="The export, a ZIP")


def _accepted(export: DataExport, base: str) -> Response[ExportAccepted]:
    url = f"{base}/{export.id}"
    return Response(ExportAccepted(export_id=export.id, status_url=url), status_code=202, headers={"Location": url})


def _base(user_id: UUID | None) -> str:
    return f"/api/v1/users/{user_id if user_id else 'me'}/exports"


async def _download(
    request: Request[Any, Any, Any], principal: Principal, export_id: str, user_id: UUID | None
) -> Response[Any]:
    found = await exports_of(request).download(principal.user, parse_uuid("export_id", export_id), user_id)
    headers = {"Content-Disposition": attachment(found.filename), "Cache-Control": "no-store"}
    return download_response(found.served, media_type="application/zip", headers=headers)


def _response(request: Request[Any, Any, Any], export: DataExport, user_id: UUID | None) -> ExportResponse:
    return ExportResponse.of(export, _base(user_id), downloadable=exports_of(request).downloadable(export))


class PersonalDataController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [authenticated]
    security = BEARER

    @post("/me/export", operation_id="export_my_data", status_code=202, responses=errors(401, 429))
    async def export_me(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Response[ExportAccepted]:
        """Start an export of everything the platform holds about the caller: a job writes a ZIP
        (JSON of each kind of record, the uploaded files, the certificate PDFs). Poll `status_url`."""
        return _accepted(await exports_of(request).request(principal.user), _base(None))

    @get("/me/exports/{export_id:str}", operation_id="get_my_export", responses=errors(401, 404, 422, 429))
    async def my_export(
        self, *, request: Request[Any, Any, Any], export_id: UuidPath, principal: NamedDependency[Principal]
    ) -> ExportResponse:
        """An export of the caller: `pending`, `ready` (with `download_url`, until `expires_at`,
        7 days after it was made) or `failed`. Another user's export is not found."""
        export = await exports_of(request).get(principal.user, parse_uuid("export_id", export_id))
        return _response(request, export, None)

    @get(
        "/me/exports/{export_id:str}/download",
        operation_id="download_my_export",
        responses={200: ZIP, 307: SIGNED_REDIRECT, **errors(401, 404, 409, 422, 429)},
    )
    async def download_my_export(
        self, *, request: Request[Any, Any, Any], export_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        """The ZIP: streamed from local storage, a redirect to a signed URL from the cloud stores.
        `409` before it is ready; `404 Export has expired` after `expires_at`."""
        return await _download(request, principal, export_id, None)

    @delete("/me", operation_id="erase_me", status_code=204, responses=errors(401, 409, 422, 429))
    async def erase_me(
        self, *, request: Request[Any, Any, Any], data: JSONBody[EraseMeRequest], principal: NamedDependency[Principal]
    ) -> None:
        """Erase the caller (their password confirms it): the account is deactivated and renamed
        `Erased user`, and what else names them is removed; grades, orders, certificates and
        audit lines keep the id alone. The last active admin cannot be erased (`409`)."""
        await erasure_of(request).erase_me(principal.user, data.password)

    @post(
        "/{user_id:str}/export",
        operation_id="export_user_data",
        status_code=202,
        guards=[admin_only],
        responses=errors(401, 403, 404, 422, 429),
    )
    async def export_user(
        self, *, request: Request[Any, Any, Any], user_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[ExportAccepted]:
        """Start an export of a user's data (admins)."""
        target = parse_uuid("user_id", user_id)
        return _accepted(await exports_of(request).request(principal.user, target), _base(target))

    @get(
        "/{user_id:str}/exports/{export_id:str}",
        operation_id="get_user_export",
        guards=[admin_only],
        responses=errors(401, 403, 404, 422, 429),
    )
    async def user_export(
        self,
        *,
        request: Request[Any, Any, Any],
        user_id: UuidPath,
        export_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> ExportResponse:
        """An export of a user's data (admins)."""
        target = parse_uuid("user_id", user_id)
        export = await exports_of(request).get(principal.user, parse_uuid("export_id", export_id), target)
        return _response(request, export, target)

    @get(
        "/{user_id:str}/exports/{export_id:str}/download",
        operation_id="download_user_export",
        guards=[admin_only],
        responses={200: ZIP, 307: SIGNED_REDIRECT, **errors(401, 403, 404, 409, 422, 429)},
    )
    async def download_user_export(
        self,
        *,
        request: Request[Any, Any, Any],
        user_id: UuidPath,
        export_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        """The ZIP of a user's export (admins)."""
        return await _download(request, principal, export_id, parse_uuid("user_id", user_id))

    @post(
        "/{user_id:str}/erase",
        operation_id="erase_user",
        status_code=204,
        guards=[admin_only],
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def erase_user(
        self, *, request: Request[Any, Any, Any], user_id: UuidPath, principal: NamedDependency[Principal]
    ) -> None:
        """Erase a user (admins), as `DELETE /users/me` does. Erasing an erased user changes nothing."""
        await erasure_of(request).erase_user(principal.user, parse_uuid("user_id", user_id))
