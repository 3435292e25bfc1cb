"""Catalog caching (API §7.12): cached reads are really served from the cache, never after a write
has changed them, and never to a viewer who may not see them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, update

from adapters.sql.catalog_repositories import SqlCatalogReader
from adapters.sql.models import CourseRow, LessonRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import Api
from tests.support.catalog import Cast, cast_of, create_course, create_lesson, publish, user_with_role


@pytest.fixture
async def cast(api: Api) -> Cast:
    return await cast_of(api)


async def sneak_title(api: Api, row: type[CourseRow] | type[LessonRow], row_id: str, title: str) -> None:
    """Change a row behind the API's back: only a cached read can still show the old value."""
    async with api.container.engine.begin() as conn:
        await conn.execute(update(row).where(row.id == uuid.UUID(row_id)).values(title=title))


async def test_public_reads_are_served_from_the_cache(api: Api, cast: Cast) -> None:
    course = await publish(api, cast.owner, (await create_course(api, cast.owner, title="Cached course"))["id"])
    lesson = await create_lesson(api, cast.owner, course["id"], title="Cached lesson")
    detail, listing, lessons = (
        f"/api/v1/courses/{course['id']}",
        "/api/v1/courses",
        f"/api/v1/courses/{course['id']}/lessons",
    )
    for url in (detail, listing, lessons):
        assert (await api.client.get(url)).status_code == 200  # fills
    await sneak_title(api, CourseRow, course["id"], "Changed behind the API")
    await sneak_title(api, LessonRow, lesson["id"], "Changed behind the API")
    assert (await api.client.get(detail)).json()["title"] == "Cached course"
    assert (await api.client.get(listing)).json()["items"][0]["title"] == "Cached course"
    assert (await api.client.get(lessons)).json()["items"][0]["title"] == "Cached lesson"
    # a student shares the anonymous view; a manager's own list is never cached
    assert (await api.client.get(listing, headers=cast.student.headers)).json()["items"][0]["title"] == "Cached course"
    mine = await api.client.get(f"{listing}?mine=true", headers=cast.owner.headers)
    assert mine.json()["items"][0]["title"] == "Changed behind the API"
    everything = await api.client.get(listing, headers=cast.admin.headers)
    assert everything.json()["items"][0]["title"] == "Changed behind the API"
    # parameters the list does not know are answered around the cache (no entry per invented name)
    odd = await api.client.get(f"{listing}?utm_source=mail")
    assert odd.json()["items"][0]["title"] == "Changed behind the API"
    assert odd.headers["link"].startswith("</api/v1/courses?utm_source=mail&page=1")


Write = Callable[[Api, Cast, dict[str, Any], dict[str, Any]], Awaitable[None]]


async def patch_course(api: Api, cast: Cast, course: dict[str, Any], _: dict[str, Any]) -> None:
    r = await api.client.patch(
        f"/api/v1/courses/{course['id']}", json={"title": "Renamed course"}, headers=cast.owner.headers
    )
    assert r.status_code == 200


async def unpublish(api: Api, cast: Cast, course: dict[str, Any], _: dict[str, Any]) -> None:
    r = await api.client.patch(
        f"/api/v1/courses/{course['id']}", json={"is_published": False}, headers=cast.owner.headers
    )
    assert r.status_code == 200


async def delete_course(api: Api, cast: Cast, course: dict[str, Any], _: dict[str, Any]) -> None:
    assert (await api.client.delete(f"/api/v1/courses/{course['id']}", headers=cast.owner.headers)).status_code == 204


async def add_lesson(api: Api, cast: Cast, course: dict[str, Any], _: dict[str, Any]) -> None:
    await create_lesson(api, cast.owner, course["id"], title="Added lesson")


async def patch_lesson(api: Api, cast: Cast, _: dict[str, Any], lesson: dict[str, Any]) -> None:
    r = await api.client.patch(
        f"/api/v1/lessons/{lesson['id']}", json={"title": "Renamed lesson"}, headers=cast.admin.headers
    )
    assert r.status_code == 200


async def delete_lesson(api: Api, cast: Cast, _: dict[str, Any], lesson: dict[str, Any]) -> None:
    assert (await api.client.delete(f"/api/v1/lessons/{lesson['id']}", headers=cast.owner.headers)).status_code == 204


async def reorder(api: Api, cast: Cast, course: dict[str, Any], lesson: dict[str, Any]) -> None:
    second = await create_lesson(api, cast.owner, course["id"], title="Second lesson")
    r = await api.client.patch(
        f"/api/v1/courses/{course['id']}/lessons/reorder",
        json={"lesson_ids": [second["id"], lesson["id"]]},
        headers=cast.owner.headers,
    )
    assert r.status_code == 200


async def public_state(api: Api, course: dict[str, Any]) -> dict[str, Any]:
    """What an anonymous visitor reads on the three cached routes."""
    detail = await api.client.get(f"/api/v1/courses/{course['id']}")
    listing = await api.client.get("/api/v1/courses")
    lessons = await api.client.get(f"/api/v1/courses/{course['id']}/lessons")
    return {
        "detail": (detail.status_code, detail.json().get("title") if detail.status_code == 200 else None),
        "list": [c["title"] for c in listing.json()["items"]],
        "lessons": (
            lessons.status_code,
            [(i["title"], i["order_index"]) for i in lessons.json()["items"]] if lessons.status_code == 200 else None,
        ),
    }


async def truth(api: Api, cast: Cast, course: dict[str, Any]) -> dict[str, Any]:
    """The same state computed without any cache: what the database says, through an admin."""
    detail = await api.client.get(f"/api/v1/courses/{course['id']}", headers=cast.admin.headers)
    published = detail.status_code == 200 and detail.json()["is_published"]
    everything = await api.client.get("/api/v1/courses?page_size=100", headers=cast.admin.headers)
    lessons = await api.client.get(f"/api/v1/courses/{course['id']}/lessons", headers=cast.admin.headers)
    return {
        "detail": (200, detail.json()["title"])
        if published
        else ((403, None) if detail.status_code == 200 else (404, None)),
        "list": [c["title"] for c in everything.json()["items"] if c["is_published"]],
        "lessons": (200, [(i["title"], i["order_index"]) for i in lessons.json()["items"]])
        if published
        else ((403, None) if detail.status_code == 200 else (404, None)),
    }


@pytest.mark.parametrize(
    "write", [patch_course, unpublish, delete_course, add_lesson, patch_lesson, delete_lesson, reorder]
)
async def test_no_read_after_a_write_returns_old_data(api: Api, cast: Cast, write: Write) -> None:
    course = await publish(api, cast.owner, (await create_course(api, cast.owner, title="Original course"))["id"])
    lesson = await create_lesson(api, cast.owner, course["id"], title="Original lesson")
    before = await public_state(api, course)  # fills every cached route
    assert before == await public_state(api, course)
    await write(api, cast, course, lesson)
    after = await public_state(api, course)
    assert after == await truth(api, cast, course)
    assert after != before


async def test_publishing_opens_what_was_refused(api: Api, cast: Cast) -> None:
    course = await create_course(api, cast.owner, title="Soon public")
    await create_lesson(api, cast.owner, course["id"])
    assert (await api.client.get(f"/api/v1/courses/{course['id']}", headers=cast.owner.headers)).status_code == 200
    assert (await api.client.get(f"/api/v1/courses/{course['id']}")).status_code == 403
    assert (await api.client.get("/api/v1/courses")).json()["total"] == 0
    await publish(api, cast.owner, course["id"])
    assert (await public_state(api, course))["detail"] == (200, "Soon public")
    assert (await api.client.get("/api/v1/courses")).json()["total"] == 1
    assert (await api.client.get(f"/api/v1/courses/{course['id']}/lessons")).status_code == 200


async def test_what_managers_read_is_never_served_to_others(api: Api, cast: Cast) -> None:
    draft = await create_course(api, cast.owner, title="Secret draft")
    await create_lesson(api, cast.owner, draft["id"])
    for who in ("owner", "admin"):  # managers read the draft first
        assert (await api.client.get(f"/api/v1/courses/{draft['id']}", headers=cast.headers(who))).status_code == 200
        r = await api.client.get(f"/api/v1/courses/{draft['id']}/lessons", headers=cast.headers(who))
        assert r.status_code == 200
        assert (await api.client.get("/api/v1/courses", headers=cast.headers(who))).status_code == 200
    for who in ("other", "student", "anonymous"):
        problem(
            await api.client.get(f"/api/v1/courses/{draft['id']}", headers=cast.headers(who)),
            403,
            "Not authorized to access this course",
        )
        problem(
            await api.client.get(f"/api/v1/courses/{draft['id']}/lessons", headers=cast.headers(who)),
            403,
            "Not authorized to view lessons for this course",
        )
        assert (await api.client.get("/api/v1/courses", headers=cast.headers(who))).json()["total"] == 0


async def test_reads_racing_a_write_never_outlive_it(api: Api, cast: Cast) -> None:
    """Many reads in flight while the write commits: once the write has answered, every later
    read shows it (a read that loaded the old row before the commit must not refill the cache)."""
    course = await publish(api, cast.owner, (await create_course(api, cast.owner, title="Title 0"))["id"])
    url = f"/api/v1/courses/{course['id']}"
    for n in range(1, 8):
        readers = [asyncio.create_task(api.client.get(url)) for _ in range(6)]
        r = await api.client.patch(url, json={"title": f"Title {n}"}, headers=cast.owner.headers)
        assert r.status_code == 200
        await asyncio.gather(*readers)
        assert (await api.client.get(url)).json()["title"] == f"Title {n}"
        assert (await api.client.get("/api/v1/courses")).json()["items"][0]["title"] == f"Title {n}"


async def test_a_zero_ttl_turns_the_cache_off(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_CACHE_TTL_SECONDS="0")
    owner = await user_with_role(api, "instructor")
    course = await publish(api, owner, (await create_course(api, owner, title="Never cached"))["id"])
    assert (await api.client.get(f"/api/v1/courses/{course['id']}")).json()["title"] == "Never cached"
    await sneak_title(api, CourseRow, course["id"], "Seen at once")
    assert (await api.client.get(f"/api/v1/courses/{course['id']}")).json()["title"] == "Seen at once"
    assert (await api.client.get("/api/v1/courses")).json()["items"][0]["title"] == "Seen at once"


async def test_sixteen_cold_requests_run_one_query(
    make_api: MakeApiFn, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold search asked for by 16 clients at once is read from the database once: per process
    on the memory cache, across processes (two apps here) on Redis."""
    apps = [await make_api()]
    if backend == "postgres":
        apps.append(await make_api())
    api = apps[0]
    cast = await cast_of(api)
    for n in range(3):
        await publish(api, cast.owner, (await create_course(api, cast.owner, title=f"Stampede {n}"))["id"])
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM courses" in statement:
            statements.append(statement)

    slow, loads = SqlCatalogReader.courses, []

    async def slowly(self: SqlCatalogReader, *args: Any) -> Any:
        loads.append(args)
        await asyncio.sleep(0.2)  # long enough for every request to miss the entry meanwhile
        return await slow(self, *args)

    monkeypatch.setattr(SqlCatalogReader, "courses", slowly)
    engines = [app.container.engine.sync_engine for app in apps]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        # What one load reads (a search on PostgreSQL is a count, then the page), on another entry.
        assert (await api.client.get("/api/v1/courses", params={"q": "stampede", "page_size": 2})).status_code == 200
        one_load, loads[:], statements[:] = len(statements), [], []
        answers = await asyncio.gather(
            *(apps[n % len(apps)].client.get("/api/v1/courses", params={"q": "stampede"}) for n in range(16))
        )
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert [r.status_code for r in answers] == [200] * 16
    assert {r.content for r in answers} == {answers[0].content}
    assert answers[0].json()["total"] == 3
    assert len(loads) == 1
    assert len(statements) == one_load, statements
