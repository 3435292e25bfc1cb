"""Prerequisites (API §12) on both backends: setting them, refusing self-reference and cycles,
showing them on the course, and enrolling only with every prerequisite completed."""

from __future__ import annotations

from typing import Any

from tests.http.test_auth import invalid, problem
from tests.support.api import Api, Session
from tests.support.catalog import cast_of, create_course, create_lesson, publish
from tests.support.learning import complete, enroll

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"


async def put(api: Api, who: Session, course_id: str, ids: list[str]) -> Any:
    return await api.client.put(
        f"/api/v1/courses/{course_id}/prerequisites",
        json={"course_ids": ids},
        headers=who.headers,
    )


async def test_prerequisites_are_set_shown_and_enforced(api: Api) -> None:
    cast = await cast_of(api)
    owner, student = cast.owner, cast.student
    basics = await create_course(api, owner, title="Basics first")
    lesson = await create_lesson(api, owner, basics["id"])
    basics = await publish(api, owner, basics["id"])
    tools = await publish(api, owner, (await create_course(api, owner, title="Tools too"))["id"])
    advanced = await create_course(api, owner, title="Advanced work")
    await create_lesson(api, owner, advanced["id"])
    r = await put(api, owner, advanced["id"], [basics["id"], tools["id"], basics["id"]])
    assert (r.status_code, r.json()) == (200, {"course_ids": [basics["id"], tools["id"]]})
    advanced = await publish(api, owner, advanced["id"])
    refs = [{"id": c["id"], "title": c["title"], "slug": c["slug"]} for c in (basics, tools)]
    assert advanced["prerequisites"] == refs
    assert (await api.client.get(f"/api/v1/courses/{advanced['id']}")).json()["prerequisites"] == refs
    listed = (await api.client.get("/api/v1/courses?page_size=100")).json()["items"]
    assert next(c for c in listed if c["id"] == advanced["id"])["prerequisites"] == refs
    assert next(c for c in listed if c["id"] == basics["id"])["prerequisites"] == []
    # Enrolling needs a completed enrollment in each, admins included.
    r = await api.client.post("/api/v1/enrollments", json={"course_id": advanced["id"]}, headers=student.headers)
    problem(r, 403, "Prerequisites not completed")
    assert r.json()["missing"] == refs
    r = await api.client.post("/api/v1/enrollments", json={"course_id": advanced["id"]}, headers=cast.admin.headers)
    assert r.json()["missing"] == refs
    eid = (await enroll(api, student, basics["id"]))["id"]
    assert (await complete(api, student, eid, lesson["id"])).status_code == 200
    r = await api.client.post("/api/v1/enrollments", json={"course_id": advanced["id"]}, headers=student.headers)
    assert r.json()["missing"] == refs[1:]
    await api.client.put(
        f"/api/v1/courses/{advanced['id']}/prerequisites", json={"course_ids": [basics["id"]]}, headers=owner.headers
    )
    await enroll(api, student, advanced["id"])
    # A renamed prerequisite shows at once on the course that requires it (cached or not).
    r = await api.client.patch(
        f"/api/v1/courses/{basics['id']}", json={"title": "Basics, renamed"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    shown = (await api.client.get(f"/api/v1/courses/{advanced['id']}")).json()["prerequisites"]
    assert [p["title"] for p in shown] == ["Basics, renamed"]
    r = await put(api, owner, advanced["id"], [])
    assert (r.status_code, r.json()) == (200, {"course_ids": []})
    assert (await api.client.get(f"/api/v1/courses/{advanced['id']}")).json()["prerequisites"] == []


async def test_bad_prerequisites_change_nothing(api: Api) -> None:
    cast = await cast_of(api)
    owner = cast.owner
    a, b, c = [await create_course(api, owner, title=f"Chain {n}") for n in "abc"]
    assert (await put(api, owner, b["id"], [a["id"]])).status_code == 200
    assert (await put(api, owner, c["id"], [b["id"]])).status_code == 200
    problem(await put(api, owner, a["id"], [c["id"]]), 400, "Prerequisites cannot form a cycle")
    problem(await put(api, owner, a["id"], [b["id"]]), 400, "Prerequisites cannot form a cycle")
    problem(await put(api, owner, a["id"], [a["id"]]), 400, "A course cannot require itself")
    problem(await put(api, owner, a["id"], [NO_SUCH]), 404, "Course not found")
    problem(await put(api, owner, NO_SUCH, [a["id"]]), 404, "Course not found")
    for who in (cast.other, cast.student):
        problem(await put(api, who, a["id"], [c["id"]]), 403, "Not authorized to manage this course")
    invalid(await put(api, owner, a["id"], ["nope"]), "body.course_ids.0")
    invalid(await put(api, owner, a["id"], [b["id"]] * 21), "body.course_ids")
    shown = (await api.client.get(f"/api/v1/courses/{a['id']}", headers=owner.headers)).json()
    assert shown["prerequisites"] == []
    # Deleting a prerequisite takes it off the course that required it.
    assert (await api.client.delete(f"/api/v1/courses/{a['id']}", headers=owner.headers)).status_code == 204
    assert (await api.client.get(f"/api/v1/courses/{b['id']}", headers=owner.headers)).json()["prerequisites"] == []
