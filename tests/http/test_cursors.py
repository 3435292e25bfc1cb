"""Cursors on every list route (API §3): a walk by `next_cursor` gives the pages a walk by `page`
gives, its pages say `page: null` and link their next page by cursor, and a cursor made for
another list, other filters or another page size is refused with 422 on `query.cursor`."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.http.test_files import upload
from tests.support.api import Api
from tests.support.catalog import create_course, publish
from tests.support.learning import TF_QUESTION, enroll, quiz_room

PAGE_SIZE = 2


def links(response: httpx.Response) -> dict[str, str]:
    """The `Link` header's targets by relation."""
    found = {}
    for part in response.headers.get("link", "").split(", "):
        target, _, rel = part.partition(">; rel=")
        found[rel.strip('"')] = target.lstrip("<")
    return found


async def get(api: Api, url: str, headers: dict[str, str], **query: Any) -> httpx.Response:
    r = await api.client.get(url, params={**dict(parse_qs(urlsplit(url).query)), **query}, headers=headers)
    assert r.status_code == 200, (url, r.text)
    return r


async def by_page(api: Api, url: str, headers: dict[str, str]) -> list[list[str]]:
    first = (await get(api, url, headers, page_size=PAGE_SIZE)).json()
    pages = [[item["id"] for item in first["items"]]]
    for number in range(2, first["total_pages"] + 1):
        body = (await get(api, url, headers, page=number, page_size=PAGE_SIZE)).json()
        pages.append([item["id"] for item in body["items"]])
    return pages


async def by_cursor(api: Api, url: str, headers: dict[str, str]) -> list[list[str]]:
    r = await get(api, url, headers, page_size=PAGE_SIZE)
    body, pages = r.json(), []
    total, total_pages = body["total"], body["total_pages"]
    assert body["page"] == 1
    for _ in range(total_pages + 1):
        pages.append([item["id"] for item in body["items"]])
        assert (body["total"], body["total_pages"], body["page_size"]) == (total, total_pages, PAGE_SIZE)
        rel = links(r)
        assert parse_qs(urlsplit(rel["first"]).query)["page"] == ["1"]
        assert parse_qs(urlsplit(rel["last"]).query)["page"] == [str(total_pages)]
        if body["next_cursor"] is None:
            assert "next" not in rel
            return pages
        if body["page"] == 1:  # asked for by number: linked by number, and its cursor goes on from it
            assert parse_qs(urlsplit(rel["next"]).query)["page"] == ["2"]
            r = await get(api, url, headers, page_size=PAGE_SIZE, cursor=body["next_cursor"])
        else:  # asked for by cursor: the `Link` target is followed as it is, and keeps the filters
            assert parse_qs(urlsplit(rel["next"]).query)["cursor"] == [body["next_cursor"]]
            r = await api.client.get(rel["next"], headers=headers)
            assert r.status_code == 200, r.text
        body = r.json()
        assert body["page"] is None
        assert "prev" not in links(r)
    raise AssertionError(f"{url}: the cursors go on past the last page")


async def test_every_list_walks_the_same_by_cursor_and_by_page(make_api: Any, tmp_path: Any) -> None:
    api = await make_api(LMS_STORAGE_URL=f"file://{tmp_path / 'objects'}")
    room = await quiz_room(api, lessons=5)
    cast, course_id = room.room.cast, room.room.course_id
    for n in range(5):
        course = await create_course(api, cast.owner, category="DevOps" if n == 2 else "Backend", title=f"Cursor {n}")
        if n < 4:
            await publish(api, cast.owner, course["id"])
            await enroll(api, cast.student, course["id"])
    await enroll(api, cast.student, course_id)
    for _ in range(2):
        await enroll(api, await api.register(), course_id)
    quizzes = f"/api/v1/courses/{course_id}/quizzes"
    for lesson in room.room.lessons[:2]:
        body = {"lesson_id": lesson["id"], "title": "Another"}
        assert (await api.client.post(quizzes, json=body, headers=cast.owner.headers)).status_code == 201
    for _ in range(2):
        r = await api.client.post(f"{room.url}/questions", json=TF_QUESTION, headers=cast.owner.headers)
        assert r.status_code == 201, r.text
    for n in range(3):
        assert (await upload(api, cast.student, f"notes-{n}.pdf")).status_code == 201

    anonymous: dict[str, str] = {}
    routes = [
        ("/api/v1/courses", anonymous, 5),
        ("/api/v1/courses?category=Backend", anonymous, 3),
        ("/api/v1/courses?q=cursor", anonymous, 4),
        ("/api/v1/courses?mine=true", cast.owner.headers, 6),
        ("/api/v1/courses", cast.admin.headers, 6),
        ("/api/v1/users", cast.admin.headers, 6),
        (f"/api/v1/courses/{course_id}/lessons", anonymous, 5),
        ("/api/v1/enrollments/my-courses", cast.student.headers, 5),
        (f"/api/v1/enrollments/courses/{course_id}", cast.owner.headers, 3),
        (quizzes, cast.owner.headers, 3),
        (f"{room.url}/questions", cast.student.headers, 5),
        (f"{room.url}/questions/manage", cast.owner.headers, 5),
        ("/api/v1/files/my-files", cast.student.headers, 3),
    ]
    for url, headers, at_least in routes:
        pages = await by_page(api, url, headers)
        assert sum(len(page) for page in pages) >= at_least, url
        assert await by_cursor(api, url, headers) == pages, url


async def test_a_cursor_answers_for_its_own_list_only(api: Api) -> None:
    admin = await api.admin()
    for _ in range(3):
        await api.register()
    first = (await get(api, "/api/v1/users", admin.headers, page_size=2)).json()
    cursor = first["next_cursor"]
    assert cursor
    # `page` is ignored beside a cursor.
    beside = (await get(api, "/api/v1/users", admin.headers, page_size=2, page=7, cursor=cursor)).json()
    assert beside["page"] is None
    assert beside["items"] == (await get(api, "/api/v1/users", admin.headers, page_size=2, page=2)).json()["items"]

    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = dict(payload, k=["not a time", 1])
    elsewhere = [
        ("/api/v1/users", {"page_size": 3, "cursor": cursor}),  # another page size
        ("/api/v1/courses", {"page_size": 2, "cursor": cursor}),  # another route
        ("/api/v1/users", {"page_size": 2, "cursor": cursor, "role": "student"}),  # another filter
    ]
    for url, query in elsewhere:
        r = await api.client.get(url, params=query, headers=admin.headers)
        assert r.status_code == 422, (url, query, r.text)
        assert r.json()["errors"] == [
            {
                "field": "query.cursor",
                "message": "This cursor belongs to another list (other filters, page size or route)",
            }
        ]
    malformed = [
        "not-base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"b": payload["b"], "k": []}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"b": payload["b"], "k": [{"t": "yesterday"}]}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"b": payload["b"], "k": [{"u": "12"}, 1]}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(forged).encode()).decode(),
    ]
    for bad in malformed:
        r = await api.client.get("/api/v1/users", params={"page_size": 2, "cursor": bad}, headers=admin.headers)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"] == [{"field": "query.cursor", "message": "Invalid cursor"}], bad
    r = await api.client.get("/api/v1/users", params={"cursor": "x" * 1025}, headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "query.cursor"
