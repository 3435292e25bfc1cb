"""Certificates over HTTP (API §5.11, §7.9): issued with the completion, the access table,
verification, revocation, the PDF and its text."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import Any
from uuid import UUID

import pypdf
from sqlalchemy import select

from adapters.sql.models import OutboxEventRow
from domain.credentials.services import pdf_key
from domain.shared.ports import ObjectMissing
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.catalog import user_with_role
from tests.support.documented import assert_documented_event
from tests.support.learning import Classroom, audit_actions, classroom, complete, enroll, enrollment

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"
WEBHOOKS = {"LMS_WEBHOOK_URLS": "http://127.0.0.1:9/hooks", "LMS_WEBHOOK_SECRET": "secret-for-the-outbox"}


async def completed_course(api: Api) -> tuple[Classroom, str, dict[str, Any]]:
    room = await classroom(api, lessons=2)
    eid = (await enroll(api, room.cast.student, room.course_id))["id"]
    for lesson in room.lessons:
        await complete(api, room.cast.student, eid, lesson["id"])
    mine = (await api.client.get("/api/v1/certificates/my-certificates", headers=room.cast.student.headers)).json()
    (certificate,) = mine["items"]
    return room, eid, certificate


async def test_completing_a_course_issues_its_certificate_at_once(make_api: MakeApiFn) -> None:
    api = await make_api(**WEBHOOKS)
    room, eid, certificate = await completed_course(api)
    state = await enrollment(api, room.cast.student, eid)
    assert state["certificate_issued_at"] == certificate["issued_at"]
    assert re.fullmatch(r"CERT-\d{8}-[0-9A-F]{6}", str(certificate["certificate_number"]))
    assert str(certificate["certificate_number"])[5:13] == str(certificate["issued_at"])[:10].replace("-", "")
    assert certificate["completion_date"] == state["completed_at"]
    assert certificate["pdf_url"] == f"/api/v1/certificates/{certificate['id']}/download"
    assert (certificate["is_revoked"], certificate["revoked_at"]) == (False, None)
    async with api.container.sessions() as session:
        types = (await session.execute(select(OutboxEventRow.type))).scalars().all()
    assert types.count("certificate.issued") == 1
    # R6 afterwards finds the same certificate.
    r = await api.client.post(f"/api/v1/certificates/enrollments/{eid}/generate", headers=room.cast.student.headers)
    assert (r.status_code, r.json()["id"]) == (200, certificate["id"])


async def test_the_pdf_shows_what_it_certifies(api: Api) -> None:
    room = await classroom(api, lessons=1)
    student = await api.register(full_name="Zoë 北京 مرحبا")
    eid = (await enroll(api, student, room.course_id))["id"]
    await complete(api, student, eid, room.lessons[0]["id"])
    certificate = (await api.client.get("/api/v1/certificates/my-certificates", headers=student.headers)).json()[
        "items"
    ][0]
    for who in (student, room.cast.admin):
        r = await api.client.get(f"/api/v1/certificates/{certificate['id']}/download", headers=who.headers)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == f'attachment; filename="{certificate["certificate_number"]}.pdf"'
    text = pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    for expected in (
        "Certificate of Completion",
        certificate["certificate_number"],
        "Zoë 北京 مرحبا",
        room.course["title"],
        certificate["completion_date"][:10],
        f"/verify/{certificate['certificate_number']}",
    ):
        assert expected in text, (expected, text)
    problem(
        await api.client.get(f"/api/v1/certificates/{certificate['id']}/download", headers=room.cast.owner.headers),
        403,
        "Not authorized to access this certificate",
    )


async def test_who_reads_a_certificate(api: Api) -> None:
    room, _, certificate = await completed_course(api)
    url = f"/api/v1/certificates/{certificate['id']}"
    for who in (room.cast.student, room.cast.owner, room.cast.admin):
        assert (await api.client.get(url, headers=who.headers)).json()["id"] == certificate["id"]
    stranger = await user_with_role(api, "student")
    for who in (stranger, room.cast.other):
        problem(await api.client.get(url, headers=who.headers), 403, "Not authorized to access this certificate")
        problem(
            await api.client.get(f"{url}/download", headers=who.headers),
            403,
            "Not authorized to access this certificate",
        )
    problem(
        await api.client.get(f"/api/v1/certificates/{NO_SUCH}", headers=stranger.headers), 404, "Certificate not found"
    )
    invalid(await api.client.get("/api/v1/certificates/nope", headers=stranger.headers), "path.certificate_id")
    problem(await api.client.get(url), 401, "Not authenticated")
    assert (await api.client.get("/api/v1/certificates/my-certificates", headers=stranger.headers)).json()["total"] == 0


async def test_verification_is_public_and_always_200(api: Api) -> None:
    _, _, certificate = await completed_course(api)
    number = str(certificate["certificate_number"])
    r = await api.client.get(f"/api/v1/certificates/verify/%20{number.lower()}%20")
    assert r.status_code == 200
    assert r.json() == {
        "valid": True,
        "certificate": certificate,
        "message": "Certificate is valid",
        "credential_url": f"/api/v1/certificates/{certificate['id']}/credential",
    }
    for unknown in ("CERT-20990101-ABCDEF", "nothing-like-it"):
        r = await api.client.get(f"/api/v1/certificates/verify/{unknown}")
        assert (r.status_code, r.json()) == (
            200,
            {"valid": False, "certificate": None, "message": "Certificate not found", "credential_url": None},
        )


async def test_revocation_is_for_admins_and_happens_once(make_api: MakeApiFn) -> None:
    api = await make_api(**WEBHOOKS)
    room, _, certificate = await completed_course(api)
    url = f"/api/v1/certificates/{certificate['id']}/revoke"
    for who in (room.cast.student, room.cast.owner):
        problem(await api.client.post(url, headers=who.headers), 403, "Only admins can revoke certificates")
    admin = room.cast.admin
    problem(
        await api.client.post(f"/api/v1/certificates/{NO_SUCH}/revoke", headers=admin.headers),
        404,
        "Certificate not found",
    )
    first = (await api.client.post(url, headers=admin.headers)).json()
    second = (await api.client.post(url, headers=admin.headers)).json()
    assert first["is_revoked"] is True
    assert first["revoked_at"] is not None
    assert second == first  # idempotent
    async with api.container.sessions() as session:
        types = (await session.execute(select(OutboxEventRow.type))).scalars().all()
        for payload in (await session.execute(select(OutboxEventRow.payload))).scalars():
            await assert_documented_event(api, json.loads(json.dumps(payload)))  # issued and revoked
    assert types.count("certificate.revoked") == 1
    number = certificate["certificate_number"]
    assert (await api.client.get(f"/api/v1/certificates/verify/{number}")).json()["valid"] is False
    student = room.cast.student
    assert (await api.client.get("/api/v1/certificates/my-certificates", headers=student.headers)).json()["total"] == 0
    assert (
        await api.client.get(f"/api/v1/certificates/{certificate['id']}", headers=student.headers)
    ).status_code == 200
    assert [a for a, _ in await audit_actions(api, str(certificate["id"]))] == [
        "certificate_issued",
        "certificate_revoked",
    ]


async def test_generate_needs_a_completed_enrollment_of_the_caller(api: Api) -> None:
    room = await classroom(api, lessons=2)
    student = room.cast.student
    eid = (await enroll(api, student, room.course_id))["id"]
    url = f"/api/v1/certificates/enrollments/{eid}/generate"
    problem(await api.client.post(url, headers=student.headers), 400, "Enrollment is not complete yet")
    for who in (room.cast.owner, room.cast.other):
        problem(
            await api.client.post(url, headers=who.headers),
            403,
            "Not authorized to generate a certificate for this enrollment",
        )
    problem(
        await api.client.post(f"/api/v1/certificates/enrollments/{NO_SUCH}/generate", headers=student.headers),
        404,
        "Enrollment not found",
    )
    invalid(
        await api.client.post("/api/v1/certificates/enrollments/nope/generate", headers=student.headers),
        "path.enrollment_id",
    )
    for lesson in room.lessons:
        await complete(api, student, eid, lesson["id"])
    r = await api.client.post(url, headers=room.cast.admin.headers)
    assert r.status_code == 200  # issued already, with the completion


async def test_a_background_job_renders_and_stores_the_pdf(api: Api) -> None:
    room, _, certificate = await completed_course(api)
    key = pdf_key(UUID(str(certificate["id"])))
    stored = None
    for _ in range(100):  # the job runs after the completing request (in process, or the SAQ worker)
        try:
            stored = b"".join([chunk async for chunk in await api.container.storage.open(key)])
            break
        except ObjectMissing:
            await asyncio.sleep(0.1)
    assert stored is not None
    assert stored.startswith(b"%PDF")
    r = await api.client.get(f"/api/v1/certificates/{certificate['id']}/download", headers=room.cast.student.headers)
    assert r.content == stored  # served from storage, not rendered again


async def test_a_missing_pdf_is_rendered_on_demand_once(api: Api) -> None:
    room, _, certificate = await completed_course(api)
    await asyncio.sleep(0.5)
    key = pdf_key(UUID(str(certificate["id"])))
    await api.container.storage.delete(key)  # as if the job had not run yet
    url = f"/api/v1/certificates/{certificate['id']}/download"
    first, second = await asyncio.gather(
        api.client.get(url, headers=room.cast.student.headers), api.client.get(url, headers=room.cast.admin.headers)
    )
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # one rendering served both
    stored = b"".join([chunk async for chunk in await api.container.storage.open(key)])
    assert stored == first.content
