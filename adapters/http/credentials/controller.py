"""`/api/v1/certificates`: a student's certificates, their PDFs, public verification, revocation (API §5.11)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from adapters.http.credentials.schemas import CertificateResponse, CertificateVerifyResponse
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import SIGNED_IN, UuidPath, certificates_of, parse_uuid
from domain.identity.model import Principal
from domain.shared.pagination import PageParams

PDF = ResponseSpec(data_container=bytes, media_type="application/pdf", description="The certificate as PDF")


class CertificatesController(Controller):
    path = "/certificates"
    tags = ["certificates"]

    @get("/my-certificates", operation_id="list_my_certificates", **SIGNED_IN, responses=errors(401, 422, 429))
    async def my_certificates(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[CertificateResponse]]:
        """The caller's certificates that are not revoked, newest first."""
        page = await certificates_of(request).my_certificates(principal.user, paging)
        return page_response(request, page, CertificateResponse.of)

    @get("/verify/{certificate_number:str}", operation_id="verify_certificate", responses=errors(422, 429))
    async def verify(
        self,
        *,
        request: Request[Any, Any, Any],
        certificate_number: Annotated[
            str, PathParameter(max_length=64, description="As printed; trimmed and upper-cased")
        ],
    ) -> CertificateVerifyResponse:
        """Public verification: always 200; `valid` only for an existing certificate that is not revoked."""
        return CertificateVerifyResponse.of(await certificates_of(request).verify(certificate_number))

    @post(
        "/enrollments/{enrollment_id:str}/generate",
        operation_id="generate_certificate",
        status_code=201,
        **SIGNED_IN,
        responses={
            200: ResponseSpec(data_container=CertificateResponse, description="The certificate issued before"),
            **errors(400, 401, 403, 404, 422, 429),
        },
    )
    async def generate(
        self, *, request: Request[Any, Any, Any], enrollment_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[CertificateResponse]:
        """Issue the certificate of a completed enrollment (its student, admins): 201 when issued now,
        200 with the existing one otherwise."""
        issued = await certificates_of(request).generate(principal.user, parse_uuid("enrollment_id", enrollment_id))
        return Response(CertificateResponse.of(issued.certificate), status_code=201 if issued.created else 200)

    @get(
        "/{certificate_id:str}", operation_id="get_certificate", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429)
    )
    async def get_certificate(
        self, *, request: Request[Any, Any, Any], certificate_id: UuidPath, principal: NamedDependency[Principal]
    ) -> CertificateResponse:
        """One certificate (its student, the course's owner, admins)."""
        certificate = await certificates_of(request).get(principal.user, parse_uuid("certificate_id", certificate_id))
        return CertificateResponse.of(certificate)

    @get(
        "/{certificate_id:str}/download",
        operation_id="download_certificate",
        **SIGNED_IN,
        responses={200: PDF, **errors(401, 403, 404, 422, 429)},
    )
    async def download(
        self, *, request: Request[Any, Any, Any], certificate_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[bytes]:
        """The certificate as PDF (its student, admins; not the course's owner)."""
        certificate, pdf = await certificates_of(request).download(
            principal.user, parse_uuid("certificate_id", certificate_id)
        )
        disposition = f'attachment; filename="{certificate.certificate_number}.pdf"'
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})

    @post(
        "/{certificate_id:str}/revoke",
        operation_id="revoke_certificate",
        status_code=200,
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def revoke(
        self, *, request: Request[Any, Any, Any], certificate_id: UuidPath, principal: NamedDependency[Principal]
    ) -> CertificateResponse:
        """Revoke a certificate (admins); revoking again changes nothing."""
        certificate = await certificates_of(request).revoke(
            principal.user, parse_uuid("certificate_id", certificate_id)
        )
        return CertificateResponse.of(certificate)
