"""Roster import (API §15.4) on both backends: a CSV file enrolls known people and invites unknown
ones; bad rows are reported without stopping the others; re-running changes nothing; a dry run
keeps nothing; malformed files are refused whole."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from adapters.sql.models import OutboxEventRow, UserRow
from tests.http.test_auth import problem
from tests.support.api import Api, Session
from tests.support.catalog import cast_of, create_course, create_lesson, publish, user_with_role
from tests.support.learning import complete, enroll

CSV = {"Content-Type": "text/csv"}


async def roster(api: Api, who: Session, course_id: str, body: bytes | str, query: str = "", **headers: str) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return await api.client.post(
        f"/api/v1/courses/{course_id}/roster{query}", content=data, headers={**who.headers, **CSV, **headers}
    )


async def counts(api: Api) -> tuple[int, int]:
    async with api.container.sessions() as session:
        users = (await session.execute(select(func.count()).select_from(UserRow))).scalar_one()
        events = (
            await session.execute(
                select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.type == "enrollment.created")
            )
        ).scalar_one()
    return int(users), int(events)


async def test_a_file_enrolls_known_people_and_invites_the_others(api: Api) -> None:
    cast = await cast_of(api)
    owner = cast.owner
    course = await create_course(api, owner, title="Roster course")
    await create_lesson(api, owner, course["id"])
    course = await publish(api, owner, course["id"])
    known = await api.register()
    body = (
        "\ufeffFull_Name,Email,team\r\n"
        f'"Lovelace, Ada",ADA.roster@Example.com,blue\r\n'
        f"Known Person,{known.email},red\r\n"
        "Bad Email,not-an-email,red\r\n"
        "=HYPERLINK(1),formula@example.com,red\r\n"
        "Nobody,@evil@example.com,red\r\n"
        ",,\r\n"
        "Ada again,ada.roster@example.com,blue\r\n"
    )
    users_before, events_before = await counts(api)
    r = await roster(api, owner, course["id"], body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "created_users": 1,
        "enrolled": 2,
        "already_enrolled": 1,  # the repeated line
        "errors": [
            {"row": 3, "email": "not-an-email", "message": "Invalid email"},
            {
                "row": 4,
                "email": "formula@example.com",
                "message": "Values may not start with =, +, -, @, tab or carriage return",
            },
            {
                "row": 5,
                "email": "@evil@example.com",
                "message": "Values may not start with =, +, -, @, tab or carriage return",
            },
        ],
    }
    assert await counts(api) == (users_before + 1, events_before + 2)
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=known.headers)).json()["items"]
    assert [e["course_id"] for e in mine] == [course["id"]]

    # The invitation lets the new student choose a password, then sign in, enrolled.
    mail = await api.mailbox.wait_for("ada.roster@example.com", "You have been enrolled in Roster course")
    assert "Ada" in mail.body
    r = await api.client.post(
        "/api/v1/auth/reset-password", json={"token": mail.token(), "new_password": "roster-password-77"}
    )
    assert r.status_code == 200, r.text
    ada = await api.login("ada.roster@example.com", "roster-password-77")
    assert ada.user["full_name"] == "Lovelace, Ada" and ada.user["role"] == "student"
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=ada.headers)).json()["items"]
    assert [e["course_id"] for e in mine] == [course["id"]]

    # The same file again changes nothing.
    r = await roster(api, owner, course["id"], body)
    assert (r.json()["created_users"], r.json()["enrolled"], r.json()["already_enrolled"]) == (0, 0, 3)
    assert await counts(api) == (users_before + 1, events_before + 2)
    assert len(api.mailbox.find("ada.roster@example.com", "You have been enrolled in Roster course")) == 1


async def test_a_dry_run_counts_and_keeps_nothing(api: Api) -> None:
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    before = await counts(api)
    body = "email\n" + "".join(f"dry{n}@example.com\n" for n in range(3)) + f"{cast.student.email}\n"
    r = await roster(api, cast.owner, course["id"], body, "?dry_run=true")
    assert (r.json()["created_users"], r.json()["enrolled"], r.json()["errors"]) == (3, 4, [])
    assert await counts(api) == before
    assert api.mailbox.find("dry0@example.com", f"You have been enrolled in {course['title']}") == []
    r = await roster(api, cast.owner, course["id"], body)
    assert (r.json()["created_users"], r.json()["enrolled"]) == (3, 4)


async def test_prerequisites_hold_unless_an_admin_ignores_them(api: Api) -> None:
    cast = await cast_of(api)
    owner = cast.owner
    basics = await create_course(api, owner, title="Roster basics")
    lesson = await create_lesson(api, owner, basics["id"])
    basics = await publish(api, owner, basics["id"])
    advanced = await create_course(api, owner, title="Roster advanced")
    r = await api.client.put(
        f"/api/v1/courses/{advanced['id']}/prerequisites", json={"course_ids": [basics["id"]]}, headers=owner.headers
    )
    assert r.status_code == 200
    ready = await api.register()
    eid = (await enroll(api, ready, basics["id"]))["id"]
    assert (await complete(api, ready, eid, lesson["id"])).status_code == 200
    body = f"email\n{ready.email}\n{cast.student.email}\n"
    r = await roster(api, owner, advanced["id"], body)
    assert (r.json()["enrolled"], r.json()["errors"]) == (
        1,
        [{"row": 2, "email": cast.student.email, "message": "Prerequisites not completed"}],
    )
    problem(
        await roster(api, owner, advanced["id"], body, "?ignore_prerequisites=true"),
        403,
        "Only admins may ignore prerequisites",
    )
    r = await roster(api, cast.admin, advanced["id"], body, "?ignore_prerequisites=true")
    assert (r.json()["enrolled"], r.json()["already_enrolled"], r.json()["errors"]) == (1, 1, [])


async def test_malformed_files_and_strangers_are_refused_whole(api: Api) -> None:
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    cid = course["id"]
    stranger = await user_with_role(api, "instructor")
    before = await counts(api)
    problem(await roster(api, cast.owner, cid, "name,mail\nA,a@example.com\n"), 400, "CSV must have an email column")
    problem(await roster(api, cast.owner, cid, ""), 400, "CSV must have an email column")
    problem(
        await roster(api, cast.owner, cid, "email\n" + "x@example.com\n" * 10_001),
        400,
        "At most 10,000 rows per import",
    )
    problem(
        await roster(api, cast.owner, cid, "email\nj\xe9@example.com\n".encode("latin-1")), 400, "CSV must be UTF-8"
    )
    r = await roster(api, cast.owner, cid, '{"email": "a@example.com"}', **{"Content-Type": "application/json"})
    problem(r, 415, "Send the roster as text/csv")
    r = await roster(api, stranger, cid, "email\na@example.com\n")
    problem(r, 403, "Not authorized to view course enrollments")
    assert (await roster(api, cast.student, cid, "email\na@example.com\n")).status_code == 403
    problem(await roster(api, cast.owner, "00000000-0000-0000-0000-00000000abcd", "email\n"), 404, "Course not found")
    assert await counts(api) == before


async def test_a_bad_course_id_is_refused(api: Api) -> None:
    cast = await cast_of(api)
    r = await roster(api, cast.owner, "not-a-uuid", "email\na@example.com\n")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.course_id", r.text
