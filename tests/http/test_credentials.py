"""Verifiable credentials over HTTP (API §15.2), checked the way a verifier does: the VC-JWT's
signature with the key the served DID document names, its members against the Open Badges 3.0
JSON Schema (1EdTech's, copied under tests/standards/), and its revocation bit in the status list."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey
from sqlalchemy import text

from domain.credentials.badges import set_bits
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.http.test_certificates import NO_SUCH, completed_course
from tests.support.api import Api
from tests.support.catalog import user_with_role

SCHEMA = json.loads((Path(__file__).parents[1] / "standards" / "ob_v3p0_achievementcredential_schema.json").read_text())
HOST = "lms.example.edu:8443"
ISSUER = "did:web:lms.example.edu%3A8443"


def _verified(token: str, header: dict[str, Any], did_document: dict[str, Any]) -> dict[str, Any]:
    """The JWT's payload once its signature checks out with the key its `kid` names in the DID
    document (and nothing else)."""
    (method,) = [m for m in did_document["verificationMethod"] if m["id"] == header["kid"]]
    assert header["kid"] in did_document["assertionMethod"]
    assert method["controller"] == did_document["id"]
    assert "d" not in method["publicKeyJwk"]  # never the private half
    jwk = method["publicKeyJwk"]
    key = OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)
    payload = jws.deserialize_compact(token, key, algorithms=[header["alg"]]).payload
    return dict(json.loads(payload))


def header_of(token: str) -> dict[str, Any]:
    return dict(jws.extract_compact(token.encode()).protected)


async def did_document(api: Api) -> dict[str, Any]:
    r = await api.client.get("/.well-known/did.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/did+json")
    return dict(r.json())


async def status_list(api: Api, url: str, document: dict[str, Any]) -> dict[str, Any]:
    assert url.startswith(f"https://{HOST}/api/v1/")
    r = await api.client.get(url.removeprefix(f"https://{HOST}"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vc+jwt")
    assert r.headers["cache-control"] == "public, max-age=300"
    token = r.text
    return _verified(token, header_of(token), document)


async def test_a_certificate_is_a_signed_open_badge_a_verifier_can_check(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PUBLIC_HOST=HOST)
    room, _, certificate = await completed_course(api)
    r = await api.client.get(f"/api/v1/certificates/{certificate['id']}/credential", headers=room.cast.student.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vc+jwt")
    token = r.text
    header = header_of(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT" and header["kid"].startswith(f"{ISSUER}#")
    document = await did_document(api)
    assert document["id"] == ISSUER
    credential = _verified(token, header, document)

    jsonschema.Draft201909Validator(SCHEMA).validate(credential)
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert set(credential["type"]) == {"VerifiableCredential", "OpenBadgeCredential"}
    assert credential["id"] == f"urn:uuid:{certificate['id']}"
    assert credential["issuer"]["id"] == ISSUER and credential["issuer"]["name"] == "LMS"
    assert credential["validFrom"] == certificate["issued_at"][:19] + "Z"
    # The JWT claims Open Badges requires mirror the credential.
    subject = credential["credentialSubject"]
    assert (credential["iss"], credential["jti"], credential["sub"]) == (ISSUER, credential["id"], subject["id"])
    assert subject["id"] == f"urn:uuid:{room.cast.student.user['id']}"
    assert isinstance(credential["nbf"], int)  # a NumericDate
    achievement = subject["achievement"]
    assert achievement["name"] == room.course["title"]
    assert achievement["criteria"]["narrative"] and achievement["description"]
    (identity,) = subject["identifier"]
    email = room.cast.student.email
    expected_hash = "sha256$" + hashlib.sha256((email + identity["salt"]).encode()).hexdigest()
    assert identity["identityType"] == "emailAddress" and identity["identityHash"] == expected_hash
    assert email not in token and email not in json.dumps(credential)  # hashed, never plain
    assert credential["evidence"][0]["id"].endswith(f"/verify/{certificate['certificate_number']}")

    # The status entry, and its bit before and after revocation.
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == f"https://{HOST}/api/v1/credentials/status/1"
    index = int(status["statusListIndex"])
    listed = await status_list(api, status["statusListCredential"], document)
    assert set(listed["type"]) == {"VerifiableCredential", "BitstringStatusListCredential"}
    assert listed["issuer"] == ISSUER and listed["id"] == status["statusListCredential"]
    bits = listed["credentialSubject"]
    assert bits["type"] == "BitstringStatusList" and bits["statusPurpose"] == "revocation"
    assert index not in set_bits(bits["encodedList"])
    r = await api.client.post(f"/api/v1/certificates/{certificate['id']}/revoke", headers=room.cast.admin.headers)
    assert r.status_code == 200
    after = (await status_list(api, status["statusListCredential"], document))["credentialSubject"]["encodedList"]
    assert set_bits(after) == [index]  # that bit alone
    # The revoked certificate's credential is still served, at the same index.
    again = await api.client.get(
        f"/api/v1/certificates/{certificate['id']}/credential", headers=room.cast.admin.headers
    )
    assert _verified(again.text, header_of(again.text), document)["credentialStatus"] == status


async def test_each_certificate_keeps_its_own_status_index(api: Api) -> None:
    indexes = []
    for _ in range(2):
        room, _, certificate = await completed_course(api)
        url = f"/api/v1/certificates/{certificate['id']}/credential"
        tokens = [(await api.client.get(url, headers=room.cast.student.headers)).text for _ in range(2)]
        document = await did_document(api)
        entries = {json.dumps(_verified(t, header_of(t), document)["credentialStatus"]) for t in tokens}
        (entry,) = entries  # the same index every time
        indexes.append(int(json.loads(entry)["statusListIndex"]))
    assert indexes[0] != indexes[1]


async def test_who_gets_a_credential(api: Api) -> None:
    room, _, certificate = await completed_course(api)
    url = f"/api/v1/certificates/{certificate['id']}/credential"
    for who in (room.cast.student, room.cast.owner, room.cast.admin):
        assert (await api.client.get(url, headers=who.headers)).status_code == 200
    stranger = await user_with_role(api, "student")
    for who in (stranger, room.cast.other):
        problem(await api.client.get(url, headers=who.headers), 403, "Not authorized to access this certificate")
    problem(await api.client.get(url), 401, "Not authenticated")
    problem(
        await api.client.get(f"/api/v1/certificates/{NO_SUCH}/credential", headers=stranger.headers),
        404,
        "Certificate not found",
    )
    invalid(
        await api.client.get("/api/v1/certificates/nope/credential", headers=stranger.headers), "path.certificate_id"
    )


async def test_status_lists_beyond_the_first_exist_once_used(api: Api) -> None:
    assert (await api.client.get("/api/v1/credentials/status/1")).status_code == 200  # even empty
    problem(await api.client.get("/api/v1/credentials/status/2"), 404, "Status list not found")
    invalid(await api.client.get("/api/v1/credentials/status/0"), "path.list_number")


async def test_verification_links_the_credential(api: Api) -> None:
    _, _, certificate = await completed_course(api)
    r = await api.client.get(f"/api/v1/certificates/verify/{certificate['certificate_number']}")
    assert r.json()["credential_url"] == f"/api/v1/certificates/{certificate['id']}/credential"
    assert (await api.client.get("/api/v1/certificates/verify/CERT-20990101-ABCDEF")).json()["credential_url"] is None


async def test_a_configured_p256_key_signs_with_es256(make_api: MakeApiFn) -> None:
    pem = ECKey.generate_key("P-256").as_pem(private=True).decode()
    api = await make_api(LMS_CREDENTIAL_SIGNING_KEY=pem.replace("\n", "\\n"), LMS_CREDENTIAL_ISSUER_NAME="Acme U")
    room, _, certificate = await completed_course(api)
    token = (
        await api.client.get(f"/api/v1/certificates/{certificate['id']}/credential", headers=room.cast.student.headers)
    ).text
    header = header_of(token)
    assert header["alg"] == "ES256"
    credential = _verified(token, header, await did_document(api))
    assert credential["issuer"]["name"] == "Acme U"
    assert credential["issuer"]["id"] == "did:web:localhost%3A8000"  # outside production, by default


async def test_credentials_signed_before_a_key_rotation_still_verify(make_api: MakeApiFn) -> None:
    old_key = OKPKey.generate_key("Ed25519").as_pem(private=True).decode()
    new_key = ECKey.generate_key("P-256").as_pem(private=True).decode()
    before = await make_api(LMS_PUBLIC_HOST=HOST, LMS_CREDENTIAL_SIGNING_KEY=old_key)
    room, _, certificate = await completed_course(before)
    url = f"/api/v1/certificates/{certificate['id']}/credential"
    issued = (await before.client.get(url, headers=room.cast.student.headers)).text
    # The same deployment after the rotation (another process on the same database).
    after = await make_api(
        LMS_PUBLIC_HOST=HOST, LMS_CREDENTIAL_SIGNING_KEY=new_key, LMS_CREDENTIAL_SIGNING_KEY_PREVIOUS=old_key
    )
    document = await did_document(after)
    assert len(document["verificationMethod"]) == 2 and len(document["assertionMethod"]) == 2
    assert all("d" not in method["publicKeyJwk"] for method in document["verificationMethod"])
    old_credential = _verified(issued, header_of(issued), document)  # signed by the previous key
    fresh = (await after.client.get(url, headers=room.cast.student.headers)).text
    assert header_of(fresh)["alg"] == "ES256"
    assert _verified(fresh, header_of(fresh), document)["credentialStatus"] == old_credential["credentialStatus"]


async def test_without_an_issuer_the_credential_routes_answer_503_and_change_nothing(api: Api) -> None:
    """Production without a signing key or a public host: no route pretends to issue credentials."""
    room, _, certificate = await completed_course(api)
    api.container.badges.issuer = None
    for url, headers in (
        (f"/api/v1/certificates/{certificate['id']}/credential", room.cast.student.headers),
        ("/api/v1/credentials/status/1", {}),
        ("/.well-known/did.json", {}),
    ):
        problem(await api.client.get(url, headers=headers), 503, "Verifiable credentials are not configured")
    async with api.container.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM credential_status_entries"))).scalar_one() == 0
    r = await api.client.get("/api/v1/credentials/status/first")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
