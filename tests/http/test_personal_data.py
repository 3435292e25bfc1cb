"""Personal data rights over HTTP (API §15.3), with a person who has touched every feature:
their export holds every kind of record and their files, and after erasure no table holds their
email, name or words anywhere, while grades, orders and certificates keep their id."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pypdf
from sqlalchemy import Table, insert, select, text

from adapters.sql.models import UserIdentityRow, orm_registry
from domain.credentials.services import pdf_key
from domain.privacy.model import DataExport, ExportStatus
from domain.shared.ports import ObjectMissing
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.http.test_files import upload
from tests.http.test_orders import ORDERS_URL, order, paid_course
from tests.support.api import PASSWORD, Api, Session, unique_email
from tests.support.assignments import assignment_room, submit
from tests.support.catalog import create_course, user_with_role
from tests.support.learning import complete, enroll, progress, quiz_room
from tests.support.live import drained

NAME = "Zephyrine Quillfeather"
NOT_ALLOWED = "Not authorized to perform this action"
NOTES = "my private note about lesson one"
REVIEW = "A review in the words of Zephyrine herself"
SUBJECT = "idp-subject-zq-4711"
IDENTITIES = cast(Table, UserIdentityRow.__table__)


async def person_everywhere(api: Api) -> tuple[Session, dict[str, Any]]:
    """A student who enrolled (three courses, one bought), made progress with notes, reviewed,
    passed a quiz, got a certificate, uploaded a file and submitted it, has notifications,
    preferences, a linked identity and sessions."""
    person = await api.register(email=unique_email("zq"), full_name=NAME)
    facts: dict[str, Any] = {}
    quiz = await quiz_room(api, lessons=2)
    cast_ = quiz.room.cast
    eid = (await enroll(api, person, quiz.room.course_id))["id"]
    r = await progress(api, person, eid, quiz.room.lessons[0]["id"], notes=NOTES, completion_percentage=40)
    assert r.status_code == 200, r.text
    for lesson in quiz.room.lessons[:-1]:
        assert (await complete(api, person, eid, lesson["id"])).status_code == 200
    attempt = (await api.client.post(quiz.attempts, headers=person.headers)).json()
    r = await api.client.post(
        f"{quiz.attempts}/{attempt['id']}/submit", json={"answers": quiz.right_answers()}, headers=person.headers
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/v1/enrollments/{eid}/review", json={"rating": 5, "review": REVIEW}, headers=person.headers
    )
    assert r.status_code == 200, r.text
    mine = (await api.client.get("/api/v1/certificates/my-certificates", headers=person.headers)).json()["items"]
    assert len(mine) == 1, mine
    facts["certificate"] = mine[0]

    room = await assignment_room(api)
    r = await upload(api, person, "essay draft.pdf", b"%PDF-1.4 the essay")
    assert r.status_code == 201, r.text
    facts["file"] = r.json()
    enrolled = (await enroll(api, person, room.room.course_id))["id"]
    assert enrolled
    facts["submission"] = await submit(api, person, room, text="An essay on runbooks")

    course = await paid_course(api, cast_.owner)
    placed = await order(api, person, course["id"])
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/mark-paid", headers=cast_.admin.headers)
    assert r.status_code == 200, r.text
    facts["order"] = placed

    r = await api.client.put(
        "/api/v1/users/me/notification-preferences",
        json={"email": {"lesson.published": False}},
        headers=person.headers,
    )
    assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    async with api.container.sessions() as session:
        await session.execute(
            insert(IDENTITIES).values(
                id=uuid.uuid4(),
                user_id=uuid.UUID(person.user["id"]),
                provider="campus",
                subject=SUBJECT,
                email=person.email,
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
    await drained(api)  # notifications made of the events
    notes = (await api.client.get("/api/v1/notifications", headers=person.headers)).json()
    assert notes["total"] > 0
    facts["cast"] = cast_
    return person, facts


async def ready_export(api: Api, who: Session, status_url: str) -> dict[str, Any]:
    for _ in range(200):
        r = await api.client.get(status_url, headers=who.headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "pending":
            return dict(r.json())
        await asyncio.sleep(0.05)
    raise AssertionError("the export stayed pending")


async def test_an_export_holds_every_record_and_file_of_the_person(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PAYMENTS_URL="manual://")
    person, facts = await person_everywhere(api)
    r = await api.client.post("/api/v1/users/me/export", headers=person.headers)
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status_url"] == f"/api/v1/users/me/exports/{accepted['export_id']}"
    assert r.headers["location"] == accepted["status_url"]
    export = await ready_export(api, person, accepted["status_url"])
    assert export["status"] == "ready", export
    ready, expires = datetime.fromisoformat(export["ready_at"]), datetime.fromisoformat(export["expires_at"])
    assert expires - ready == timedelta(days=7)
    assert export["download_url"] == f"{accepted['status_url']}/download"
    r = await api.client.get(export["download_url"], headers=person.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())

    def table(name: str) -> list[dict[str, Any]]:
        return list(json.loads(archive.read(f"{name}.json")))

    (profile,) = table("profile")
    assert (profile["email"], profile["full_name"]) == (person.email, NAME)
    assert "password_hash" not in profile and "totp_secret" not in profile
    assert len(table("enrollments")) == 3
    assert any(row["review"] == REVIEW for row in table("enrollments"))
    assert any(row["notes"] == NOTES for row in table("lesson_progress"))
    (attempt,) = table("quiz_attempts")
    assert attempt["answers"] and attempt["is_passed"] is True
    (submission,) = table("submissions")
    assert submission["text"] == "An essay on runbooks"
    (certificate,) = table("certificates")
    assert certificate["certificate_number"] == facts["certificate"]["certificate_number"]
    (paid,) = table("orders")
    assert paid["id"] == facts["order"]["id"] and paid["status"] == "paid" and "client_secret" not in paid
    assert table("notifications") and table("notification_preferences")
    (identity,) = table("user_identities")
    assert identity["subject"] == SUBJECT
    assert table("refresh_sessions")
    assert {line["action"] for line in table("audit_log")} >= {"data_export_requested"}
    assert not any("secret_hash" in row for row in table("api_keys"))
    uploaded = f"files/{facts['file']['id']}-essay draft.pdf"
    assert archive.read(uploaded) == b"%PDF-1.4 the essay"
    assert archive.read(f"certificates/{certificate['certificate_number']}.pdf").startswith(b"%PDF")
    assert "README.txt" in names
    assert "recovery_codes.json" not in names and "data_exports.json" not in names

    # Another user's export id is not found by anyone but its person and admins.
    other = await api.register()
    for url in (accepted["status_url"], export["download_url"]):
        problem(await api.client.get(url, headers=other.headers), 404, "Export not found")
    admin = facts["cast"].admin
    admin_url = f"/api/v1/users/{person.user['id']}/exports/{accepted['export_id']}"
    r = await api.client.get(admin_url, headers=admin.headers)
    assert r.status_code == 200 and r.json()["download_url"] == f"{admin_url}/download"
    assert (await api.client.get(f"{admin_url}/download", headers=admin.headers)).content == r_content(archive)
    problem(await api.client.get(admin_url, headers=other.headers), 403, "Not authorized to perform this action")
    invalid(await api.client.get("/api/v1/users/me/exports/nope", headers=person.headers), "path.export_id")
    problem(
        await api.client.get(f"/api/v1/users/me/exports/{uuid.uuid4()}", headers=person.headers),
        404,
        "Export not found",
    )


def r_content(archive: zipfile.ZipFile) -> bytes:
    assert archive.fp is not None
    archive.fp.seek(0)
    return bytes(archive.fp.read())


async def test_an_export_expires_after_seven_days_and_is_deleted(make_api: MakeApiFn) -> None:
    api = await make_api()
    person = await api.register()
    accepted = (await api.client.post("/api/v1/users/me/export", headers=person.headers)).json()
    export = await ready_export(api, person, accepted["status_url"])
    exports = api.container.exports
    async with api.container.engine.connect() as conn:
        key = (await conn.execute(text("SELECT storage_key FROM data_exports"))).scalar_one()
    await api.container.storage.open(key)  # stored
    real = exports.clock
    exports.clock = _At(datetime.fromisoformat(export["expires_at"]) + timedelta(seconds=1))
    try:
        r = await api.client.get(f"{accepted['status_url']}/download", headers=person.headers)
        problem(r, 404, "Export has expired")
        assert (await api.client.get(accepted["status_url"], headers=person.headers)).json()["download_url"] is None
        assert await exports.prune() == 1
    finally:
        exports.clock = real
    await _gone(api, key)
    problem(await api.client.get(accepted["status_url"], headers=person.headers), 404, "Export not found")


class _At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def everything(api: Api) -> str:
    """Every row of every table, as text."""
    dumped = []
    async with api.container.engine.connect() as conn:
        for table in orm_registry.metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                dumped.append(f"{table.name}: {json.dumps(dict(row._mapping), default=str, ensure_ascii=False)}")
    return "\n".join(dumped)


async def test_erasure_removes_the_person_and_keeps_what_others_rely_on(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PAYMENTS_URL="manual://")
    person, facts = await person_everywhere(api)
    uid = person.user["id"]
    pdf = pdf_key(uuid.UUID(facts["certificate"]["id"]))
    await _stored(api, pdf)  # the render job has run: it cannot store the old name after erasure
    before = await everything(api)
    for trace in (person.email, NAME, NOTES, REVIEW, SUBJECT):
        assert trace in before

    # The wrong password changes nothing.
    r = await api.client.request(
        "DELETE", "/api/v1/users/me", json={"password": "not it at all"}, headers=person.headers
    )
    problem(r, 401, "Invalid password")
    r = await api.client.request("DELETE", "/api/v1/users/me", json={}, headers=person.headers)
    invalid(r, "body.password")
    assert await everything(api) == before

    r = await api.client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=person.headers)
    assert r.status_code == 204, r.text
    await drained(api)
    after = await everything(api)
    for trace in (person.email, NAME, NOTES, REVIEW, SUBJECT):
        assert trace not in after, trace

    # Signed out for good: the token and the password no longer work.
    assert (await api.me(person)).status_code == 401
    r = await api.client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert r.status_code == 401
    # The account stays, renamed and inactive; grades, orders and the certificate keep the id.
    admin = facts["cast"].admin
    user = (await api.client.get(f"/api/v1/users/{uid}", headers=admin.headers)).json()
    assert (user["email"], user["full_name"], user["is_active"]) == (f"erased-{uid}@invalid", "Erased user", False)
    order_ = (await api.client.get(f"{ORDERS_URL}/{facts['order']['id']}", headers=admin.headers)).json()
    assert (order_["buyer_id"], order_["status"]) == (uid, "paid")
    number = facts["certificate"]["certificate_number"]
    verified = (await api.client.get(f"/api/v1/certificates/verify/{number}")).json()
    assert verified["valid"] is True and verified["certificate"]["student_id"] == uid
    submission = await api.client.get(f"/api/v1/submissions/{facts['submission']['id']}", headers=admin.headers)
    assert submission.status_code == 200 and submission.json()["student_id"] == uid
    # The uploaded file and the stored certificate PDF are gone; a new PDF shows the erased name.
    await _gone(api, pdf)
    assert (await api.client.get(f"/api/v1/files/{facts['file']['id']}", headers=admin.headers)).status_code == 404
    pdf = await api.client.get(f"/api/v1/certificates/{facts['certificate']['id']}/download", headers=admin.headers)
    assert pdf.status_code == 200
    assert "Erased user" in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    async with api.container.engine.connect() as conn:
        erased = (
            (await conn.execute(text("SELECT payload FROM outbox_events WHERE type = 'user.erased'"))).scalars().all()
        )
    assert len(erased) == 1 and uid in str(erased[0])
    # Erasing again (an admin) changes nothing and records nothing more.
    r = await api.client.post(f"/api/v1/users/{uid}/erase", headers=admin.headers)
    assert r.status_code == 204
    assert await everything(api) == after


async def _stored(api: Api, key: str) -> None:
    for _ in range(200):
        try:
            await api.container.storage.open(key)
            return
        except ObjectMissing:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{key} was never stored")


async def _gone(api: Api, key: str) -> None:
    for _ in range(100):
        try:
            await api.container.storage.open(key)
        except ObjectMissing:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} is still stored")


async def test_erasing_an_instructor_keeps_their_courses_and_removes_their_keys(api: Api) -> None:
    instructor = await user_with_role(api, "instructor")
    course = await create_course(api, instructor)
    r = await api.client.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["courses:read"]}, headers=instructor.headers
    )
    assert r.status_code == 201, r.text
    by_key = {"Authorization": f"Bearer {r.json()['key']}"}
    assert (await api.client.get("/api/v1/users/me", headers=by_key)).status_code == 200
    for method, path in (("POST", "/api/v1/users/me/export"), ("POST", f"/api/v1/users/{instructor.user['id']}/erase")):
        r = await api.client.request(method, path, headers=by_key)
        assert r.status_code == 403, r.text  # never with a key
    admin = await api.admin()
    other = await api.register()
    problem(
        await api.client.post(f"/api/v1/users/{instructor.user['id']}/erase", headers=other.headers),
        403,
        "Not authorized to perform this action",
    )
    r = await api.client.post(f"/api/v1/users/{instructor.user['id']}/erase", headers=admin.headers)
    assert r.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=by_key)).status_code == 401
    kept = (await api.client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert kept["instructor_id"] == instructor.user["id"]
    problem(await api.client.post(f"/api/v1/users/{uuid.uuid4()}/erase", headers=admin.headers), 404, "User not found")
    invalid(await api.client.post("/api/v1/users/nope/erase", headers=admin.headers), "path.user_id")


async def test_the_last_admin_cannot_be_erased(api: Api) -> None:
    admin = await api.admin()  # the only one: each test has its own database
    r = await api.client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=admin.headers)
    problem(r, 409, "Cannot erase the last admin")
    r = await api.client.post(f"/api/v1/users/{admin.user['id']}/erase", headers=admin.headers)
    problem(r, 409, "Cannot erase the last admin")
    second = await api.admin()
    r = await api.client.post(f"/api/v1/users/{admin.user['id']}/erase", headers=second.headers)
    assert r.status_code == 204
    r = await api.client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=second.headers)
    problem(r, 409, "Cannot erase the last admin")


async def test_an_export_whose_job_was_lost_is_queued_again(api: Api) -> None:
    """A pending export whose job never ran (lost between the commit and the queue) is found by
    the hourly prune once its job's retries would have ended, and built."""
    person = await api.register()
    lost = DataExport(
        id=uuid.uuid4(),
        user_id=uuid.UUID(person.user["id"]),
        requested_by=uuid.UUID(person.user["id"]),
        status=ExportStatus.PENDING,
        created_at=datetime.now(UTC) - timedelta(hours=3),
    )
    async with api.container.exports.uow() as uow:
        await uow.exports.add(lost)
        await uow.commit()
    url = f"/api/v1/users/me/exports/{lost.id}"
    assert (await api.client.get(url, headers=person.headers)).json()["status"] == "pending"
    await api.container.exports.prune()
    assert (await ready_export(api, person, url))["status"] == "ready"


async def export_rows(api: Api) -> int:
    async with api.container.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM data_exports"))).scalar_one())


async def test_bad_export_and_erasure_requests_are_refused_and_change_nothing(api: Api) -> None:
    person = await api.register()
    admin = await api.admin()
    uid = person.user["id"]
    pending = DataExport(
        id=uuid.uuid4(),
        user_id=uuid.UUID(uid),
        requested_by=uuid.UUID(uid),
        status=ExportStatus.PENDING,
        created_at=datetime.now(UTC),
    )
    async with api.container.exports.uow() as uow:
        await uow.exports.add(pending)
        await uow.commit()
    before, rows = await everything(api), await export_rows(api)

    problem(await api.client.post("/api/v1/users/me/export"), 401, "Not authenticated")
    problem(await api.client.post(f"/api/v1/users/{uid}/export", headers=person.headers), 403, NOT_ALLOWED)
    problem(await api.client.post(f"/api/v1/users/{uuid.uuid4()}/export", headers=admin.headers), 404, "User not found")
    invalid(await api.client.post("/api/v1/users/nope/export", headers=admin.headers), "path.user_id")
    mine = f"/api/v1/users/me/exports/{pending.id}"
    problem(await api.client.get(f"{mine}/download", headers=person.headers), 409, "Export is not ready")
    invalid(await api.client.get("/api/v1/users/me/exports/nope/download", headers=person.headers), "path.export_id")
    invalid(await api.client.get(f"/api/v1/users/nope/exports/{pending.id}", headers=admin.headers), "path.user_id")
    problem(
        await api.client.get(f"/api/v1/users/{admin.user['id']}/exports/{pending.id}", headers=admin.headers),
        404,
        "Export not found",  # not that user's
    )

    for body in ({"password": 12345678}, {"password": ""}, {"password": "x" * 129}, []):
        r = await api.client.request("DELETE", "/api/v1/users/me", json=body, headers=person.headers)
        assert r.status_code == 422, (body, r.text)
    r = await api.client.request(
        "DELETE",
        "/api/v1/users/me",
        content=b"{not json",
        headers={**person.headers, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")
    problem(
        await api.client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}), 401, "Not authenticated"
    )
    assert await everything(api) == before and await export_rows(api) == rows
