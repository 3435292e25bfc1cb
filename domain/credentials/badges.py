"""Open Badges 3.0 credentials (API §15.2): each certificate as an `OpenBadgeCredential` signed
as a VC-JWT by a `did:web` issuer, whose revocation is published in a Bitstring Status List.

A verifier needs nothing of ours but the public documents: it reads the JWT's `kid`, resolves the
issuer's DID document (`https://<host>/.well-known/did.json`), verifies the signature with the key
named there, and looks up the credential's bit in the status list credential it points to.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from domain.credentials.model import Certificate
from domain.credentials.ports import CredentialSigner, CredentialsUnitOfWorkFactory
from domain.credentials.services import CertificateService
from domain.identity.model import User
from domain.identity.ports import UserLookup
from domain.shared.clock import Clock
from domain.shared.errors import NotFound, Unavailable

# Bits per status list: the Bitstring Status List's minimum (16 KiB), so that a list fetched to
# check one credential says little about which one.
STATUS_LIST_BITS = 131_072
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
NOT_CONFIGURED = "Verifiable credentials are not configured"
STATUS_LIST_NOT_FOUND = "Status list not found"


def did_web(host: str) -> str:
    """`did:web` of a host; a port's colon is percent-encoded (did:web's rule)."""
    return "did:web:" + quote(host, safe="")


def encoded_list(revoked: list[int]) -> str:
    """A status list's bits (index 0 the first byte's highest bit), GZIP-compressed, as multibase
    base64url without padding (`u` prefix)."""
    bits = bytearray(STATUS_LIST_BITS // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def set_bits(encoded: str) -> list[int]:
    """The indexes whose bits are set in an encoded status list (what a verifier reads)."""
    raw = encoded[1:] if encoded.startswith("u") else encoded
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return [n * 8 + i for n, byte in enumerate(bits) if byte for i in range(8) if byte & (0x80 >> i)]


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who signs: the host the API is reached at (`LMS_PUBLIC_HOST`), its name, and its key."""

    host: str
    name: str
    signer: CredentialSigner
    url: str  # the issuer's home page (the front end)
    previous: tuple[CredentialSigner, ...] = ()  # keys that signed before; only their public halves are shown

    @property
    def did(self) -> str:
        return did_web(self.host)

    @property
    def key_id(self) -> str:
        return self.id_of(self.signer)

    def id_of(self, key: CredentialSigner) -> str:
        return f"{self.did}#{key.thumbprint}"

    def status_list_url(self, number: int) -> str:
        return f"https://{self.host}/api/v1/credentials/status/{number}"


@dataclass(slots=True)
class OpenBadges:
    uow: CredentialsUnitOfWorkFactory
    certificates: CertificateService
    users: UserLookup
    clock: Clock
    issuer: Issuer | None  # None: not configured (production without a key or a public host)
    frontend_url: str = "http://localhost:3000"

    def _issuer(self) -> Issuer:
        if self.issuer is None:
            raise Unavailable(NOT_CONFIGURED)
        return self.issuer

    def did_document(self) -> dict[str, Any]:
        """The issuer's DID document: its key, and the keys it signed with before, for signatures
        (`assertionMethod`)."""
        issuer = self._issuer()
        keys = list({key.thumbprint: key for key in (issuer.signer, *issuer.previous)}.values())
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
            "id": issuer.did,
            "verificationMethod": [
                {
                    "id": issuer.id_of(key),
                    "type": "JsonWebKey2020",
                    "controller": issuer.did,
                    "publicKeyJwk": key.public_jwk(),
                }
                for key in keys
            ],
            "assertionMethod": [issuer.id_of(key) for key in keys],
        }

    async def credential(self, actor: User, certificate_id: UUID) -> str:
        """The certificate's `OpenBadgeCredential` as a compact VC-JWT (its student, the course's
        owner, admins). A revoked certificate's credential is served too: its status bit says so."""
        issuer = self._issuer()
        async with self.uow() as uow:
            certificate, course = await self.certificates.readable(uow, actor, certificate_id)
            course = course or await uow.courses.get(certificate.course_id)
            index = await uow.certificates.status_index(certificate.id)
            await uow.commit()
        student = await self.users.get(certificate.student_id)
        title = course.title if course else "Course"
        description = (course.description if course else "") or f"Completion of the course {title}."
        email = student.email if student else str(certificate.student_id)
        claims = self._open_badge(issuer, certificate, index, title=title, description=description, email=email)
        return issuer.signer.sign(claims, issuer.key_id)

    def _open_badge(
        self, issuer: Issuer, certificate: Certificate, index: int, *, title: str, description: str, email: str
    ) -> dict[str, Any]:
        credential_id = f"urn:uuid:{certificate.id}"
        subject_id = f"urn:uuid:{certificate.student_id}"
        list_url = issuer.status_list_url(index // STATUS_LIST_BITS + 1)
        salt = certificate.id.hex
        frontend = self.frontend_url.rstrip("/")
        credential: dict[str, Any] = {
            "@context": [VC_CONTEXT, OB_CONTEXT],
            "id": credential_id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": f"{title}: certificate of completion",
            "issuer": {"id": issuer.did, "type": ["Profile"], "name": issuer.name, "url": issuer.url},
            "validFrom": _instant(certificate.issued_at),
            "credentialSubject": {
                "id": subject_id,
                "type": ["AchievementSubject"],
                "activityEndDate": _instant(certificate.completion_date),
                # The earner's email, salted and hashed: a verifier who knows it can match it.
                "identifier": [
                    {
                        "type": "IdentityObject",
                        "hashed": True,
                        "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
                        "identityType": "emailAddress",
                        "salt": salt,
                    }
                ],
                "achievement": {
                    "id": f"{frontend}/courses/{certificate.course_id}",
                    "type": ["Achievement"],
                    "achievementType": "Certificate",
                    "name": title,
                    "description": description,
                    "criteria": {"narrative": f"Completed every lesson of {title}."},
                },
            },
            "evidence": [
                {
                    "id": f"{frontend}/verify/{certificate.certificate_number}",
                    "type": ["Evidence"],
                    "name": f"Certificate {certificate.certificate_number}",
                }
            ],
            "credentialStatus": {
                "id": f"{list_url}#{index % STATUS_LIST_BITS}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": str(index % STATUS_LIST_BITS),
                "statusListCredential": list_url,
            },
            "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        }
        # The VC-JWT claims Open Badges requires beside the credential.
        return credential | {
            "iss": issuer.did,
            "jti": credential_id,
            "sub": subject_id,
            "nbf": int(certificate.issued_at.timestamp()),
        }

    async def status_list(self, number: int) -> str:
        """Status list `number` (from 1) as a signed `BitstringStatusListCredential`: a set bit is a
        revoked certificate. List 1 always exists; later ones once an index in them is given."""
        issuer = self._issuer()
        first = (number - 1) * STATUS_LIST_BITS
        async with self.uow() as uow:
            given = await uow.certificates.status_indexes_given()
            if number < 1 or (number > 1 and given <= first):
                raise NotFound(STATUS_LIST_NOT_FOUND)
            revoked = await uow.certificates.revoked_status_indexes(first, first + STATUS_LIST_BITS)
        url = issuer.status_list_url(number)
        now = self.clock.now()
        credential = {
            "@context": [VC_CONTEXT],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer.did,
            "validFrom": _instant(now),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encoded_list([index - first for index in revoked]),
            },
        }
        return issuer.signer.sign(
            credential | {"iss": issuer.did, "jti": url, "sub": f"{url}#list", "nbf": int(now.timestamp())},
            issuer.key_id,
        )
