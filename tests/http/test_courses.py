"""`/courses`: create, list, get, patch, publish, delete, for every role (API §5.4, §7.4)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api, unwrap
from tests.support.catalog import Cast, cast_of, create_course, publish, unique_title, user_with_role

ROLES = ["owner", "other", "admin", "student", "anonymous"]


@pytest.fixture
async def cast(api: Api) -> Cast:
    return await cast_of(api)


async def test_create_makes_a_draft_owned_by_the_caller(api: Api, cast: Cast) -> None:
    body = {
        "title": "Intro to Python",
        "description": "Variables, loops and functions",
        "category": "Backend",
        "difficulty_level": "beginner",
        "thumbnail_url": "https://cdn.example.com/p.png",
        "estimated_duration_minutes": 120,
        "metadata": {"tags": ["python"], "level": 1},
        "is_published": True,  # not a create member: ignored
        "unknown": "ignored",
    }
    r = await api.client.post("/api/v1/courses", json=body, headers=cast.owner.headers)
    assert r.status_code == 201, r.text
    course = r.json()
    assert set(course) == {
        "id", "title", "slug", "description", "instructor_id", "category", "difficulty_level",
        "is_published", "thumbnail_url", "estimated_duration_minutes", "created_at", "updated_at", "prerequisites",
        "sequential", "price", "currency",
    }  # fmt: skip
    assert course["slug"] == "intro-to-python"
    assert course["is_published"] is False
    assert course["instructor_id"] == cast.owner.user["id"]
    assert course["difficulty_level"] == "beginner"
    assert course["created_at"].endswith("Z")
    assert r.headers["location"] == f"/api/v1/courses/{course['id']}"
    assert r.headers["etag"].startswith('"')
    admin_course = await create_course(api, cast.admin)
    assert admin_course["instructor_id"] == cast.admin.user["id"]


@pytest.mark.parametrize("who", ["student", "anonymous"])
async def test_only_instructors_and_admins_create(api: Api, cast: Cast, who: str) -> None:
    r = await api.client.post("/api/v1/courses", json={"title": "Nope course"}, headers=cast.headers(who))
    if who == "anonymous":
        assert r.status_code == 401
    else:
        problem(r, 403, "Insufficient permissions")
    # the role guard answers before validation
    r = await api.client.post("/api/v1/courses", json={"title": 1}, headers=cast.headers(who))
    assert r.status_code == (401 if who == "anonymous" else 403)


async def test_slugs_derived_transliterated_and_made_unique(api: Api, cast: Cast) -> None:
    first = await create_course(api, cast.owner, title="Café Crème 101")
    assert first["slug"] == "cafe-creme-101"
    second = await create_course(api, cast.other, title="Cafe Creme 101!")
    assert second["slug"] == "cafe-creme-101-2"
    third = await create_course(api, cast.owner, title="café crème 101")
    assert third["slug"] == "cafe-creme-101-3"
    given = await create_course(api, cast.owner, title="Anything", slug="my-own-slug")
    assert given["slug"] == "my-own-slug"
    r = await api.client.post(
        "/api/v1/courses", json={"title": "Other", "slug": "my-own-slug"}, headers=cast.other.headers
    )
    problem(r, 409, "Course slug already exists")
    r = await api.client.post(
        "/api/v1/courses", json={"title": "Other", "slug": "cafe-creme-101"}, headers=cast.other.headers
    )
    problem(r, 409, "Course slug already exists")


async def test_derived_slug_too_short_is_a_validation_error(api: Api, cast: Cast) -> None:
    r = await api.client.post("/api/v1/courses", json={"title": "!?!  -"}, headers=cast.owner.headers)
    invalid(r, "body.slug")
    r = await api.client.post("/api/v1/courses", json={"title": "Ab!"}, headers=cast.owner.headers)
    invalid(r, "body.slug")
    r = await api.client.post("/api/v1/courses", json={"title": "!?!", "slug": "fine-slug"}, headers=cast.owner.headers)
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.title"),
        ({"title": "ab"}, "body.title"),
        ({"title": "x" * 256}, "body.title"),
        ({"title": 123}, "body.title"),
        ({"title": None}, "body.title"),
        ({"title": "Fine title", "slug": "Bad Slug"}, "body.slug"),
        ({"title": "Fine title", "slug": "double--hyphen"}, "body.slug"),
        ({"title": "Fine title", "slug": "-lead"}, "body.slug"),
        ({"title": "Fine title", "slug": "ab"}, "body.slug"),
        ({"title": "Fine title", "slug": "a" * 256}, "body.slug"),
        ({"title": "Fine title", "category": "c" * 101}, "body.category"),
        ({"title": "Fine title", "difficulty_level": "expert"}, "body.difficulty_level"),
        ({"title": "Fine title", "estimated_duration_minutes": 0}, "body.estimated_duration_minutes"),
        ({"title": "Fine title", "estimated_duration_minutes": 2**31}, "body.estimated_duration_minutes"),
        ({"title": "Fine title", "estimated_duration_minutes": "ten"}, "body.estimated_duration_minutes"),
        ({"title": "Fine title", "metadata": [1, 2]}, "body.metadata"),
        ({"title": "Fine title", "thumbnail_url": "u" * 2049}, "body.thumbnail_url"),
    ],
)
async def test_create_rejects_bad_input_and_changes_nothing(
    api: Api, cast: Cast, body: dict[str, Any], field: str
) -> None:
    r = await api.client.post("/api/v1/courses", json=body, headers=cast.owner.headers)
    invalid(r, field)
    r = await api.client.get("/api/v1/courses?mine=true", headers=cast.owner.headers)
    assert r.json()["total"] == 0


async def test_malformed_bodies(api: Api, cast: Cast) -> None:
    headers = {**cast.owner.headers, "content-type": "application/json"}
    r = await api.client.post("/api/v1/courses", content=b"{not json", headers=headers)
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.client.post("/api/v1/courses", content=b"[]", headers=headers)
    assert r.status_code in (400, 422)
    big = {"title": "Big course", "description": "x" * (1024 * 1024 + 1)}
    r = await api.client.post("/api/v1/courses", json=big, headers=cast.owner.headers)
    problem(r, 413, "Request body too large")


@pytest.mark.parametrize("who", ROLES)
async def test_get_visibility_for_every_role(api: Api, cast: Cast, who: str) -> None:
    draft = await create_course(api, cast.owner)
    live = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    r = await api.client.get(f"/api/v1/courses/{draft['id']}", headers=cast.headers(who))
    if who in ("owner", "admin"):
        assert r.status_code == 200
        assert r.json()["id"] == draft["id"]
    else:
        problem(r, 403, "Not authorized to access this course")
    r = await api.client.get(f"/api/v1/courses/{live['id']}", headers=cast.headers(who))
    assert r.status_code == 200
    assert r.json() == live


async def test_get_unknown_and_malformed_ids(api: Api, cast: Cast) -> None:
    problem(await api.client.get(f"/api/v1/courses/{uuid.uuid4()}"), 404, "Course not found")
    invalid(await api.client.get("/api/v1/courses/not-a-uuid"), "path.course_id")
    invalid(await api.client.get("/api/v1/courses/1234"), "path.course_id")


async def test_an_invalid_token_on_an_optional_route_counts_as_anonymous(api: Api, cast: Cast) -> None:
    draft = await create_course(api, cast.owner)
    r = await api.client.get(f"/api/v1/courses/{draft['id']}", headers={"Authorization": "Bearer forged.token.here"})
    problem(r, 403, "Not authorized to access this course")
    r = await api.client.get("/api/v1/courses", headers={"Authorization": "Bearer forged.token.here"})
    assert r.status_code == 200


async def test_list_visibility_table(api: Api, cast: Cast) -> None:
    owner_draft = await create_course(api, cast.owner)
    owner_live = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    other_draft = await create_course(api, cast.other)
    admin_draft = await create_course(api, cast.admin)

    async def ids(who: str, query: str = "") -> list[str]:
        r = await api.client.get(f"/api/v1/courses{query}", headers=cast.headers(who))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    everything = [admin_draft["id"], other_draft["id"], owner_live["id"], owner_draft["id"]]  # newest first
    assert await ids("anonymous") == [owner_live["id"]]
    assert await ids("anonymous", "?mine=true") == [owner_live["id"]]
    assert await ids("student", "?mine=true") == [owner_live["id"]]
    assert await ids("other") == [owner_live["id"]]
    assert await ids("other", "?mine=true") == [other_draft["id"]]
    assert await ids("owner", "?mine=true") == [owner_live["id"], owner_draft["id"]]
    assert await ids("admin") == everything
    assert await ids("admin", "?mine=true") == [admin_draft["id"]]


async def test_list_filters_search_and_pages(api: Api, cast: Cast) -> None:
    specs = [
        ("Backend", "beginner", "Python for data pipelines", "Learn pandas and airflow"),
        ("Backend", "advanced", "Advanced Rust services", "Ownership, async and tokio"),
        ("backend", "beginner", "Go basics", "Goroutines and python-style channels"),
        ("Frontend", None, "React hooks", None),
    ]
    for category, level, title, description in specs:
        course = await create_course(
            api, cast.owner, title=title, category=category, difficulty_level=level, description=description
        )
        await publish(api, cast.owner, course["id"])

    async def titles(query: str) -> list[str]:
        r = await api.client.get(f"/api/v1/courses{query}")
        assert r.status_code == 200, r.text
        return [c["title"] for c in r.json()["items"]]

    assert await titles("?category=Backend") == ["Advanced Rust services", "Python for data pipelines"]
    assert await titles("?category=backend") == ["Go basics"]  # exact, case-sensitive
    assert await titles("?difficulty_level=beginner") == ["Go basics", "Python for data pipelines"]
    assert await titles("?category=Backend&difficulty_level=beginner") == ["Python for data pipelines"]
    assert await titles("?q=python") == ["Go basics", "Python for data pipelines"]  # title or description
    assert await titles("?q=PYTHON%20pandas") == ["Python for data pipelines"]  # every word
    assert await titles("?q=tokio") == ["Advanced Rust services"]
    assert await titles("?q=nothing-like-this") == []
    assert await titles("?q=%25") == []  # LIKE wildcards are literal
    invalid(await api.client.get("/api/v1/courses?difficulty_level=expert"), "query.difficulty_level")
    invalid(await api.client.get("/api/v1/courses?mine=maybe"), "query.mine")
    invalid(await api.client.get(f"/api/v1/courses?q={'x' * 201}"), "query.q")
    invalid(await api.client.get("/api/v1/courses?page=0"), "query.page")
    invalid(await api.client.get("/api/v1/courses?page_size=101"), "query.page_size")

    r = await api.client.get("/api/v1/courses?category=Backend&page=2&page_size=1")
    page = r.json()
    assert [page["total"], page["page"], page["page_size"], page["total_pages"]] == [2, 2, 1, 2]
    assert page["items"][0]["title"] == "Python for data pipelines"
    assert r.headers["link"] == (
        '</api/v1/courses?category=Backend&page=1&page_size=1>; rel="first", '
        '</api/v1/courses?category=Backend&page=1&page_size=1>; rel="prev", '
        '</api/v1/courses?category=Backend&page=2&page_size=1>; rel="last"'
    )
    r = await api.client.get("/api/v1/courses?category=Backend&page=9")
    assert r.json()["items"] == []
    assert r.json()["total"] == 2
    r = await api.client.get("/api/v1/courses?category=None")
    assert r.json()["total"] == 0
    assert "link" not in r.headers


@pytest.mark.parametrize("who", ROLES)
async def test_patch_publish_and_delete_need_a_manager(api: Api, cast: Cast, who: str) -> None:
    course = await create_course(api, cast.owner)
    cid = course["id"]
    headers = cast.headers(who)
    r_patch = await api.client.patch(f"/api/v1/courses/{cid}", json={"title": "Renamed course"}, headers=headers)
    r_publish = await api.client.post(f"/api/v1/courses/{cid}/publish", headers=headers)
    if who == "anonymous":
        assert r_patch.status_code == r_publish.status_code == 401
    elif who in ("owner", "admin"):
        assert r_patch.status_code == 200
        assert r_patch.json()["title"] == "Renamed course"
        assert r_publish.status_code == 200
        assert r_publish.json()["is_published"] is True
    else:
        problem(r_patch, 403, "Not authorized to manage this course")
        problem(r_publish, 403, "Not authorized to manage this course")
    r = await api.client.delete(f"/api/v1/courses/{cid}", headers=headers)
    if who == "anonymous":
        assert r.status_code == 401
    elif who in ("owner", "admin"):
        assert r.status_code == 204
        problem(await api.client.get(f"/api/v1/courses/{cid}", headers=cast.admin.headers), 404, "Course not found")
    else:
        problem(r, 403, "Not authorized to manage this course")
        assert (await api.client.get(f"/api/v1/courses/{cid}", headers=cast.admin.headers)).status_code == 200


async def test_patch_semantics(api: Api, cast: Cast) -> None:
    course = await create_course(
        api, cast.owner, title="Patch me", category="Backend", difficulty_level="advanced", description="d"
    )
    cid = course["id"]
    url = f"/api/v1/courses/{cid}"
    r = await api.client.patch(url, json={}, headers=cast.owner.headers)
    assert r.status_code == 200
    assert r.json() == course  # nothing changed, not even updated_at
    r = await api.client.patch(
        url, json={"category": None, "description": None, "slug": "new-slug", "x": 1}, headers=cast.owner.headers
    )
    assert r.status_code == 200
    patched = r.json()
    assert patched["category"] is None
    assert patched["description"] is None
    assert patched["difficulty_level"] == "advanced"
    assert patched["slug"] == course["slug"]  # slugs never change
    assert patched["updated_at"] > course["updated_at"]
    problem(
        await api.client.patch(url, json={"title": None}, headers=cast.owner.headers), 400, "'title' cannot be null"
    )
    problem(
        await api.client.patch(url, json={"is_published": None}, headers=cast.owner.headers),
        400,
        "'is_published' cannot be null",
    )
    invalid(await api.client.patch(url, json={"title": "ab"}, headers=cast.owner.headers), "body.title")
    invalid(await api.client.patch(url, json={"is_published": "yes"}, headers=cast.owner.headers), "body.is_published")
    problem(
        await api.client.patch(f"/api/v1/courses/{uuid.uuid4()}", json={"title": None}, headers=cast.owner.headers),
        404,
        "Course not found",
    )
    invalid(await api.client.patch("/api/v1/courses/nope", json={}, headers=cast.owner.headers), "path.course_id")
    r = await api.client.patch(url, json={"is_published": True}, headers=cast.owner.headers)
    assert r.json()["is_published"] is True
    assert (await api.client.get(url)).status_code == 200
    r = await api.client.patch(url, json={"is_published": False}, headers=cast.owner.headers)
    assert r.json()["is_published"] is False
    problem(await api.client.get(url), 403, "Not authorized to access this course")


async def test_publish_is_idempotent(api: Api, cast: Cast) -> None:
    course = await create_course(api, cast.owner)
    first = await publish(api, cast.owner, course["id"])
    again = await publish(api, cast.owner, course["id"])
    assert first == again
    problem(
        await api.client.post(f"/api/v1/courses/{uuid.uuid4()}/publish", headers=cast.owner.headers),
        404,
        "Course not found",
    )


async def test_delete_removes_lessons_and_refuses_courses_with_students(api: Api, cast: Cast) -> None:
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    cid = course["id"]
    r = await api.client.post(
        f"/api/v1/courses/{cid}/lessons",
        json={"title": "Only lesson", "lesson_type": "text"},
        headers=cast.owner.headers,
    )
    lesson_id = r.json()["id"]
    r = await api.client.post("/api/v1/enrollments", json={"course_id": cid}, headers=cast.student.headers)
    assert r.status_code == 201, r.text

    problem(
        await api.client.delete(f"/api/v1/courses/{cid}", headers=cast.owner.headers),
        409,
        "Course has enrollments; unpublish it instead (admins may delete it with force=true)",
    )
    problem(
        await api.client.delete(f"/api/v1/courses/{cid}?force=true", headers=cast.owner.headers),
        403,
        "Only admins can force the deletion of a course",
    )
    invalid(await api.client.delete(f"/api/v1/courses/{cid}?force=perhaps", headers=cast.admin.headers), "query.force")
    assert (await api.client.get(f"/api/v1/courses/{cid}")).status_code == 200
    r = await api.client.delete(f"/api/v1/courses/{cid}?force=true", headers=cast.admin.headers)
    assert r.status_code == 204
    problem(await api.client.get(f"/api/v1/courses/{cid}"), 404, "Course not found")
    problem(await api.client.get(f"/api/v1/lessons/{lesson_id}"), 404, "Lesson not found")
    problem(await api.client.delete(f"/api/v1/courses/{cid}", headers=cast.admin.headers), 404, "Course not found")


async def test_conditional_requests_on_a_course(api: Api, cast: Cast) -> None:
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    url = f"/api/v1/courses/{course['id']}"
    r = await api.client.get(url)
    etag = r.headers["etag"]
    r = await api.client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert (await api.client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200

    stale = {**cast.owner.headers, "If-Match": '"not-the-current-tag"'}
    problem(
        await api.client.patch(url, json={"title": "Lost update"}, headers=stale),
        412,
        "The resource has changed since it was read (If-Match)",
    )
    assert (await api.client.get(url)).json()["title"] == course["title"]
    r = await api.client.patch(url, json={"title": "Careful update"}, headers={**cast.owner.headers, "If-Match": etag})
    assert r.status_code == 200
    new_etag = r.headers["etag"]
    assert new_etag != etag
    assert (await api.client.get(url, headers={"If-None-Match": etag})).status_code == 200
    assert (await api.client.get(url, headers={"If-None-Match": new_etag})).status_code == 304
    # the old tag no longer matches: a second writer holding it is refused
    problem(
        await api.client.patch(url, json={"title": "Second writer"}, headers={**cast.owner.headers, "If-Match": etag}),
        412,
        "The resource has changed since it was read (If-Match)",
    )
    problem(
        await api.client.delete(url, headers={**cast.owner.headers, "If-Match": etag}),
        412,
        "The resource has changed since it was read (If-Match)",
    )
    # authorization answers before the precondition
    problem(
        await api.client.delete(url, headers={**cast.other.headers, "If-Match": etag}),
        403,
        "Not authorized to manage this course",
    )
    assert (await api.client.delete(url, headers={**cast.owner.headers, "If-Match": new_etag})).status_code == 204


async def test_list_etag_changes_with_the_list(api: Api, cast: Cast) -> None:
    r = await api.client.get("/api/v1/courses")
    etag = r.headers["etag"]
    assert (await api.client.get("/api/v1/courses", headers={"If-None-Match": etag})).status_code == 304
    await publish(api, cast.owner, (await create_course(api, cast.owner, title=unique_title()))["id"])
    r = await api.client.get("/api/v1/courses", headers={"If-None-Match": etag})
    assert r.status_code == 200
    assert r.json()["total"] == 1


async def test_catalog_responses_in_the_envelope(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RESPONSE_ENVELOPE="true")
    owner = await user_with_role(api, "instructor")
    r = await api.client.post("/api/v1/courses", json={"title": "Wrapped course"}, headers=owner.headers)
    assert r.status_code == 201
    course = unwrap(r.json())
    assert r.json()["success"] is True
    await api.client.post(f"/api/v1/courses/{course['id']}/publish", headers=owner.headers)
    r = await api.client.get("/api/v1/courses")
    assert unwrap(r.json())["total"] == 1
    assert r.headers["link"]
    etag = r.headers["etag"]
    r = await api.client.get("/api/v1/courses", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    r = await api.client.get(f"/api/v1/courses/{course['id']}")
    assert unwrap(r.json())["title"] == "Wrapped course"
    r = await api.client.patch(
        f"/api/v1/courses/{course['id']}",
        json={"title": "Still wrapped"},
        headers={**owner.headers, "If-Match": r.headers["etag"]},
    )
    assert unwrap(r.json())["title"] == "Still wrapped"


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/v1/courses/{bad}", "path.course_id"),
        ("PATCH", "/api/v1/courses/{bad}", "path.course_id"),
        ("DELETE", "/api/v1/courses/{bad}", "path.course_id"),
        ("POST", "/api/v1/courses/{bad}/publish", "path.course_id"),
        ("GET", "/api/v1/courses/{bad}/lessons", "path.course_id"),
        ("POST", "/api/v1/courses/{bad}/lessons", "path.course_id"),
        ("PATCH", "/api/v1/courses/{bad}/lessons/reorder", "path.course_id"),
        ("GET", "/api/v1/lessons/{bad}", "path.lesson_id"),
        ("PATCH", "/api/v1/lessons/{bad}", "path.lesson_id"),
        ("DELETE", "/api/v1/lessons/{bad}", "path.lesson_id"),
    ],
)
async def test_every_id_route_refuses_a_malformed_uuid(
    api: Api, cast: Cast, method: str, path: str, field: str
) -> None:
    bodies = {"PATCH": {"lesson_ids": []}, "POST": {"title": "Valid title", "lesson_type": "text"}}
    r = await api.client.request(
        method, path.format(bad="12345-not-a-uuid"), json=bodies.get(method), headers=cast.admin.headers
    )
    invalid(r, field)
