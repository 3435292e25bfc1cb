"""Lessons: create, list, get, patch, delete and reorder, for every role (API §5.5, §7.5)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.catalog import Cast, cast_of, create_course, create_lesson, publish

ROLES = ["owner", "other", "admin", "student", "anonymous"]
MANAGE = "Not authorized to manage lessons for this course"


@pytest.fixture
async def cast(api: Api) -> Cast:
    return await cast_of(api)


@pytest.fixture
async def draft(api: Api, cast: Cast) -> dict[str, Any]:
    return await create_course(api, cast.owner)


def lessons_url(course: dict[str, Any]) -> str:
    return f"/api/v1/courses/{course['id']}/lessons"


async def positions(api: Api, cast: Cast, course: dict[str, Any]) -> list[tuple[str, int]]:
    r = await api.client.get(lessons_url(course), headers=cast.owner.headers)
    assert r.status_code == 200, r.text
    return [(item["title"], item["order_index"]) for item in r.json()["items"]]


async def test_create_defaults_and_fields(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    first = await create_lesson(api, cast.owner, draft["id"], title="Getting Started!", lesson_type="text")
    assert first["order_index"] == 1
    assert first["slug"] == "getting-started"
    assert first["course_id"] == draft["id"]
    assert first["is_preview"] is False
    assert set(first) == {
        "id", "course_id", "title", "slug", "description", "content", "lesson_type", "order_index",
        "parent_lesson_id", "duration_minutes", "video_url", "is_preview", "created_at", "updated_at",
        "available_from", "available_after_days", "lock",
    }  # fmt: skip
    assert (first["available_from"], first["available_after_days"], first["lock"]) == (None, 0, None)
    far = await create_lesson(api, cast.owner, draft["id"], order_index=10, lesson_type="document", slug="custom-slug")
    assert (far["order_index"], far["slug"], far["lesson_type"]) == (10, "custom-slug", "document")
    after = await create_lesson(api, cast.admin, draft["id"], title="???", lesson_type="quiz", metadata={"k": 1})
    assert after["order_index"] == 11  # max + 1
    assert after["slug"] == "lesson"
    video = await create_lesson(
        api, cast.owner, draft["id"], lesson_type="video", video_link="  https://videos.example.com/v1  "
    )
    assert video["video_url"] == "https://videos.example.com/v1"
    empty = await create_lesson(api, cast.owner, draft["id"], lesson_type="text", video_url="   ")
    assert empty["video_url"] is None
    child = await create_lesson(
        api, cast.owner, draft["id"], parent_lesson_id=first["id"], duration_minutes=15, is_preview=True
    )
    assert (child["parent_lesson_id"], child["duration_minutes"], child["is_preview"]) == (first["id"], 15, True)


@pytest.mark.parametrize("who", ROLES)
async def test_create_needs_a_manager(api: Api, cast: Cast, draft: dict[str, Any], who: str) -> None:
    r = await api.client.post(
        lessons_url(draft), json={"title": "A lesson", "lesson_type": "text"}, headers=cast.headers(who)
    )
    if who == "anonymous":
        assert r.status_code == 401
    elif who in ("owner", "admin"):
        assert r.status_code == 201
    else:
        problem(r, 403, MANAGE)


async def test_create_business_rules(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    other_course = await create_course(api, cast.owner)
    foreign = await create_lesson(api, cast.owner, other_course["id"])
    existing = await create_lesson(api, cast.owner, draft["id"])
    url, headers = lessons_url(draft), cast.owner.headers

    async def post(**body: Any) -> Any:
        return await api.client.post(url, json={"title": "Rule lesson", "lesson_type": "text", **body}, headers=headers)

    problem(
        await api.client.post(
            f"/api/v1/courses/{uuid.uuid4()}/lessons", json={"title": "Lost", "lesson_type": "text"}, headers=headers
        ),
        404,
        "Course not found",
    )
    problem(await post(parent_lesson_id=str(uuid.uuid4())), 404, "Parent lesson not found")
    problem(await post(parent_lesson_id=foreign["id"]), 400, "Parent lesson must belong to the same course")
    for bad in ("ftp://x.com/v", "not a url", "https://", "//x.com/v"):
        problem(await post(lesson_type="video", video_url=bad), 400, "video_url must be a valid http/https URL")
    problem(
        await post(lesson_type="text", video_url="https://x.com/v"), 400, "video_url is only allowed for video lessons"
    )
    problem(await post(order_index=existing["order_index"]), 409, "Lesson already exists or order index conflicts")
    assert await positions(api, cast, draft) == [(existing["title"], 1)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lesson_type": "text"}, "body.title"),
        ({"title": "ab", "lesson_type": "text"}, "body.title"),
        ({"title": "t" * 256, "lesson_type": "text"}, "body.title"),
        ({"title": "Fine lesson"}, "body.lesson_type"),
        ({"title": "Fine lesson", "lesson_type": "podcast"}, "body.lesson_type"),
        ({"title": "Fine lesson", "lesson_type": "text", "order_index": 0}, "body.order_index"),
        ({"title": "Fine lesson", "lesson_type": "text", "order_index": "first"}, "body.order_index"),
        ({"title": "Fine lesson", "lesson_type": "text", "parent_lesson_id": "nope"}, "body.parent_lesson_id"),
        ({"title": "Fine lesson", "lesson_type": "text", "duration_minutes": 0}, "body.duration_minutes"),
        ({"title": "Fine lesson", "lesson_type": "text", "slug": "Not A Slug"}, "body.slug"),
        ({"title": "Fine lesson", "lesson_type": "text", "is_preview": "sometimes"}, "body.is_preview"),
        ({"title": "Fine lesson", "lesson_type": "video", "video_url": "u" * 2049}, "body.video_url"),
    ],
)
async def test_create_rejects_bad_input_and_changes_nothing(
    api: Api, cast: Cast, draft: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    invalid(await api.client.post(lessons_url(draft), json=body, headers=cast.owner.headers), field)
    assert await positions(api, cast, draft) == []


@pytest.mark.parametrize("who", ROLES)
async def test_read_visibility_for_every_role(api: Api, cast: Cast, draft: dict[str, Any], who: str) -> None:
    hidden = await create_lesson(api, cast.owner, draft["id"], is_preview=True)
    live = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    shown = await create_lesson(api, cast.owner, live["id"])
    headers = cast.headers(who)
    r_list = await api.client.get(lessons_url(draft), headers=headers)
    r_get = await api.client.get(f"/api/v1/lessons/{hidden['id']}", headers=headers)
    if who in ("owner", "admin"):
        assert [i["id"] for i in r_list.json()["items"]] == [hidden["id"]]
        assert r_get.json() == hidden
    else:  # is_preview does not open a draft's lessons
        problem(r_list, 403, "Not authorized to view lessons for this course")
        problem(r_get, 403, "Not authorized to view this lesson")
    r = await api.client.get(lessons_url(live), headers=headers)
    assert [i["id"] for i in r.json()["items"]] == [shown["id"]]
    r = await api.client.get(f"/api/v1/lessons/{shown['id']}", headers=headers)
    assert r.json() == shown


async def test_read_errors(api: Api) -> None:
    problem(await api.client.get(f"/api/v1/courses/{uuid.uuid4()}/lessons"), 404, "Course not found")
    problem(await api.client.get(f"/api/v1/lessons/{uuid.uuid4()}"), 404, "Lesson not found")
    invalid(await api.client.get("/api/v1/lessons/abc"), "path.lesson_id")
    invalid(await api.client.get("/api/v1/courses/abc/lessons"), "path.course_id")


async def test_list_is_ordered_and_paged(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    for n in (3, 1, 2):
        await create_lesson(api, cast.owner, draft["id"], title=f"Part {n}", order_index=n)
    assert await positions(api, cast, draft) == [("Part 1", 1), ("Part 2", 2), ("Part 3", 3)]
    r = await api.client.get(f"{lessons_url(draft)}?page=2&page_size=2", headers=cast.owner.headers)
    assert [i["title"] for i in r.json()["items"]] == ["Part 3"]
    assert r.json()["total_pages"] == 2
    assert 'rel="prev"' in r.headers["link"]
    assert r.headers["etag"]


async def test_update_rules(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    root = await create_lesson(api, cast.owner, draft["id"], title="Root lesson")
    child = await create_lesson(api, cast.owner, draft["id"], title="Child lesson", parent_lesson_id=root["id"])
    grandchild = await create_lesson(api, cast.owner, draft["id"], title="Grandchild", parent_lesson_id=child["id"])
    foreign = await create_lesson(api, cast.owner, (await create_course(api, cast.owner))["id"])
    url = f"/api/v1/lessons/{root['id']}"

    async def patch(body: dict[str, Any], lesson_url: str = url) -> Any:
        return await api.client.patch(lesson_url, json=body, headers=cast.owner.headers)

    for name in ("title", "lesson_type", "order_index", "is_preview"):
        problem(await patch({name: None}), 400, f"'{name}' cannot be null")
    problem(await patch({"parent_lesson_id": root["id"]}), 400, "Lesson cannot be its own parent")
    problem(await patch({"parent_lesson_id": grandchild["id"]}), 400, "Parent lesson creates a cycle")
    problem(await patch({"parent_lesson_id": child["id"]}), 400, "Parent lesson creates a cycle")
    problem(await patch({"parent_lesson_id": foreign["id"]}), 400, "Parent lesson must belong to the same course")
    problem(await patch({"parent_lesson_id": str(uuid.uuid4())}), 404, "Parent lesson not found")
    problem(await patch({"order_index": child["order_index"]}), 409, "Lesson already exists or order index conflicts")
    problem(await patch({"video_url": "https://x.com/v"}), 400, "video_url is only allowed for video lessons")
    problem(
        await patch({"lesson_type": "video", "video_url": "mailto:a@b.c"}),
        400,
        "video_url must be a valid http/https URL",
    )
    invalid(await patch({"title": "no"}), "body.title")
    invalid(await patch({"order_index": -1}), "body.order_index")
    problem(
        await api.client.patch(f"/api/v1/lessons/{uuid.uuid4()}", json={"title": None}, headers=cast.owner.headers),
        404,
        "Lesson not found",
    )

    # a subtree may move under another branch; a node may become a root again
    r = await patch({"parent_lesson_id": root["id"]}, f"/api/v1/lessons/{grandchild['id']}")
    assert r.json()["parent_lesson_id"] == root["id"]
    r = await patch({"parent_lesson_id": None}, f"/api/v1/lessons/{child['id']}")
    assert r.json()["parent_lesson_id"] is None

    r = await patch({"lesson_type": "video", "video_link": " https://videos.example.com/a "})
    assert (r.json()["lesson_type"], r.json()["video_url"]) == ("video", "https://videos.example.com/a")
    r = await patch({"video_url": ""})
    assert r.json()["video_url"] is None
    r = await patch({"video_url": "https://videos.example.com/b", "description": "d", "content": "c"})
    assert r.json()["video_url"] == "https://videos.example.com/b"
    r = await patch({"lesson_type": "text"})  # away from video: the URL goes
    assert (r.json()["lesson_type"], r.json()["video_url"]) == ("text", None)
    r = await patch({"order_index": 40, "slug": "ignored-slug"})
    assert (r.json()["order_index"], r.json()["slug"]) == (40, root["slug"])


@pytest.mark.parametrize("who", ["other", "student", "anonymous"])
async def test_update_and_delete_need_a_manager(api: Api, cast: Cast, draft: dict[str, Any], who: str) -> None:
    lesson = await create_lesson(api, cast.owner, draft["id"])
    url = f"/api/v1/lessons/{lesson['id']}"
    r_patch = await api.client.patch(url, json={"title": "Taken over"}, headers=cast.headers(who))
    r_delete = await api.client.delete(url, headers=cast.headers(who))
    if who == "anonymous":
        assert r_patch.status_code == r_delete.status_code == 401
    else:
        problem(r_patch, 403, MANAGE)
        problem(r_delete, 403, MANAGE)
    assert (await api.client.get(url, headers=cast.owner.headers)).json() == lesson


async def test_delete_closes_positions_and_orphans_children(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    lessons = [await create_lesson(api, cast.owner, draft["id"], title=f"Lesson {n}") for n in range(1, 6)]
    child = await create_lesson(api, cast.owner, draft["id"], title="Lesson 6", parent_lesson_id=lessons[1]["id"])
    r = await api.client.delete(f"/api/v1/lessons/{lessons[1]['id']}", headers=cast.admin.headers)
    assert r.status_code == 204
    expected = [("Lesson 1", 1), ("Lesson 3", 2), ("Lesson 4", 3), ("Lesson 5", 4), ("Lesson 6", 5)]
    assert await positions(api, cast, draft) == expected
    r = await api.client.get(f"/api/v1/lessons/{child['id']}", headers=cast.owner.headers)
    assert r.json()["parent_lesson_id"] is None
    problem(
        await api.client.delete(f"/api/v1/lessons/{lessons[1]['id']}", headers=cast.owner.headers),
        404,
        "Lesson not found",
    )
    # the next default position follows the closed-up list
    assert (await create_lesson(api, cast.owner, draft["id"], title="Lesson 7"))["order_index"] == 6


async def test_conditional_lesson_writes(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    lesson = await create_lesson(api, cast.owner, draft["id"])
    url = f"/api/v1/lessons/{lesson['id']}"
    r = await api.client.get(url, headers=cast.owner.headers)
    etag = r.headers["etag"]
    assert (await api.client.get(url, headers={**cast.owner.headers, "If-None-Match": etag})).status_code == 304
    r = await api.client.patch(url, json={"title": "First edit"}, headers={**cast.owner.headers, "If-Match": etag})
    assert r.status_code == 200
    stale = {**cast.owner.headers, "If-Match": etag}
    problem(
        await api.client.patch(url, json={"title": "Second edit"}, headers=stale),
        412,
        "The resource has changed since it was read (If-Match)",
    )
    problem(await api.client.delete(url, headers=stale), 412, "The resource has changed since it was read (If-Match)")
    assert (await api.client.get(url, headers=cast.owner.headers)).json()["title"] == "First edit"
    r = await api.client.delete(url, headers={**cast.owner.headers, "If-Match": r.headers["etag"]})
    assert r.status_code == 204


async def test_reorder(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    a = await create_lesson(api, cast.owner, draft["id"], title="Part A", order_index=2)
    b = await create_lesson(api, cast.owner, draft["id"], title="Part B", order_index=5, parent_lesson_id=a["id"])
    c = await create_lesson(api, cast.owner, draft["id"], title="Part C", order_index=9)
    url = f"{lessons_url(draft)}/reorder"
    r = await api.client.patch(
        f"{url}?page=1&page_size=2", json={"lesson_ids": [c["id"], a["id"], b["id"]]}, headers=cast.owner.headers
    )
    assert r.status_code == 200, r.text
    page = r.json()
    assert [(i["title"], i["order_index"]) for i in page["items"]] == [("Part C", 1), ("Part A", 2)]
    assert (page["total"], page["total_pages"]) == (3, 2)
    assert r.headers["link"].startswith(f"<{lessons_url(draft)}?page=1&page_size=2>")
    assert await positions(api, cast, draft) == [("Part C", 1), ("Part A", 2), ("Part B", 3)]
    r = await api.client.get(f"/api/v1/lessons/{b['id']}", headers=cast.owner.headers)
    assert r.json()["parent_lesson_id"] == a["id"]  # parents are kept
    assert r.json()["updated_at"] > b["updated_at"]
    unchanged = await api.client.get(f"/api/v1/lessons/{a['id']}", headers=cast.owner.headers)
    assert unchanged.json()["updated_at"] == a["updated_at"]  # A kept position 2

    foreign = await create_lesson(api, cast.owner, (await create_course(api, cast.owner))["id"])
    mismatch = "lesson_ids must list every lesson of the course exactly once"
    for ids in (
        [c["id"], a["id"]],
        [c["id"], a["id"], b["id"], foreign["id"]],
        [c["id"], a["id"], a["id"]],
        [c["id"], a["id"], foreign["id"]],
        [],
    ):
        r = await api.client.patch(url, json={"lesson_ids": ids}, headers=cast.owner.headers)
        problem(r, 422, mismatch)
        assert r.json()["errors"] == [{"field": "body.lesson_ids", "message": mismatch}]
    invalid(await api.client.patch(url, json={"lesson_ids": ["nope"]}, headers=cast.owner.headers), "body.lesson_ids.0")
    invalid(await api.client.patch(url, json={}, headers=cast.owner.headers), "body.lesson_ids")
    problem(await api.client.patch(url, json={"lesson_ids": []}, headers=cast.other.headers), 403, MANAGE)
    problem(await api.client.patch(url, json={"lesson_ids": []}, headers=cast.student.headers), 403, MANAGE)
    assert (await api.client.patch(url, json={"lesson_ids": []})).status_code == 401
    problem(
        await api.client.patch(
            f"/api/v1/courses/{uuid.uuid4()}/lessons/reorder", json={"lesson_ids": []}, headers=cast.owner.headers
        ),
        404,
        "Course not found",
    )
    assert await positions(api, cast, draft) == [("Part C", 1), ("Part A", 2), ("Part B", 3)]


async def test_reorder_of_an_empty_course(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    r = await api.client.patch(f"{lessons_url(draft)}/reorder", json={"lesson_ids": []}, headers=cast.owner.headers)
    assert r.status_code == 200
    assert r.json() == {"items": [], "total": 0, "page": 1, "page_size": 20, "total_pages": 0, "next_cursor": None}


async def test_lessons_added_at_once_get_distinct_positions(api: Api, cast: Cast, draft: dict[str, Any]) -> None:
    """Lesson writes to one course are serialised (a row lock, or SQLite's write lock)."""
    results = await asyncio.gather(
        *(
            api.client.post(
                lessons_url(draft), json={"title": f"Lesson {n}", "lesson_type": "text"}, headers=cast.owner.headers
            )
            for n in range(6)
        )
    )
    assert [r.status_code for r in results] == [201] * 6
    assert sorted(r.json()["order_index"] for r in results) == [1, 2, 3, 4, 5, 6]
