"""Verifiable credentials (API §15.2): a certificate as an Open Badges 3.0 VC-JWT, the issuer's
DID document, and the revocation status lists."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from adapters.http.openapi import errors
from adapters.http.security import SIGNED_IN, UuidPath, badges_of, parse_uuid
from domain.identity.model import Principal

VC_JWT = "application/vc+jwt"
DID_JSON = "application/did+json"
# Verifiers may keep a status list this long: a revocation reaches them within five minutes.
STATUS_LIST_CACHE = "public, max-age=300"

CREDENTIAL = ResponseSpec(
    data_container=str,
    media_type=VC_JWT,
    description=(
        "The certificate's Open Badges 3.0 `OpenBadgeCredential` as a compact VC-JWT: the payload is "
        "the credential, signed by the issuer key named in the header's `kid` (a key of the DID document)"
    ),
)
STATUS_LIST = ResponseSpec(
    data_container=str,
    media_type=VC_JWT,
    description="A `BitstringStatusListCredential` as a compact VC-JWT; a set bit is a revoked certificate",
)


class DidDocument(msgspec.Struct, kw_only=True, rename={"context": "@context"}):
    """The issuer's DID document (did:web): its signing key."""

    context: list[str]
    id: str
    verificationMethod: list[dict[str, Any]]
    assertionMethod: list[str]


class CredentialsController(Controller):
    tags = ["certificates"]

    @get(
        "/certificates/{certificate_id:str}/credential",
        operation_id="get_certificate_credential",
        **SIGNED_IN,
        responses={200: CREDENTIAL, **errors(401, 403, 404, 422, 429, 503)},
    )
    async def credential(
        self, *, request: Request[Any, Any, Any], certificate_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[str]:
        """The certificate as a verifiable credential (its student, the course's owner, admins)."""
        token = await badges_of(request).credential(principal.user, parse_uuid("certificate_id", certificate_id))
        return Response(token, media_type=VC_JWT)

    @get(
        "/credentials/status/{list_number:int}",
        operation_id="get_credential_status_list",
        security=[],
        responses={200: STATUS_LIST, **errors(404, 429, 503)},
    )
    async def status_list(
        self,
        *,
        request: Request[Any, Any, Any],
        list_number: Annotated[int, PathParameter(ge=1, le=1_000_000, description="From 1")],
    ) -> Response[str]:
        """Public: a revocation status list, as verifiers fetch it from a credential's `credentialStatus`."""
        token = await badges_of(request).status_list(list_number)
        return Response(token, media_type=VC_JWT, headers={"Cache-Control": STATUS_LIST_CACHE})


class IssuerController(Controller):
    tags = ["certificates"]

    @get(
        "/.well-known/did.json",
        operation_id="get_issuer_did_document",
        security=[],
        media_type=DID_JSON,
        responses=errors(429, 503),
    )
    async def did_document(self, *, request: Request[Any, Any, Any]) -> DidDocument:
        """Public: the credential issuer's DID document (`did:web:<host>`), with the key its
        credentials are signed with."""
        return msgspec.convert(badges_of(request).did_document(), DidDocument)
