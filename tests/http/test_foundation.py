"""Regressions found by fuzzing the API: each answered 500, or disagreed with its own document."""

from __future__ import annotations

import logging

import pytest
from litestar.routes import HTTPRoute

from adapters.sql.models import CourseRow
from domain.catalog.services import CatalogService
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.http.test_idempotency import count
from tests.support.api import Api
from tests.support.catalog import create_course, publish, user_with_role

HUGE_PAGE = "9223372036854775809"


@pytest.mark.parametrize("path", ["/api/v1/courses", "/api/v1/users", "/api/v1/enrollments/my-courses"])
async def test_a_page_whose_offset_cannot_fit_is_a_validation_problem(api: Api, path: str) -> None:
    admin = await api.admin()
    for page in (HUGE_PAGE, "2147483648"):
        invalid(await api.client.get(path, params={"page": page}, headers=admin.headers), "query.page")
    r = await api.client.get(path, params={"page": "2147483647", "page_size": "100"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []


async def test_deeply_nested_json_is_a_validation_problem(api: Api) -> None:
    instructor = await user_with_role(api, "instructor")
    for path in ("/api/v1/auth/register", "/api/v1/courses"):
        headers = {**instructor.headers, "content-type": "application/json"}
        invalid(await api.client.post(path, content=b"[" * 100_000, headers=headers), "body")


async def test_text_with_a_nul_character_is_a_validation_problem(api: Api) -> None:
    """PostgreSQL cannot store U+0000 (the stateful fuzzer found it as a 500 on course metadata);
    both backends refuse it alike, and the text `\\u0000` (an escaped backslash) stays welcome."""
    instructor = await user_with_role(api, "instructor")
    headers = {**instructor.headers, "content-type": "application/json"}
    for body in (b'{"title": "Nul\\u0000here"}', b'{"title": "Meta", "metadata": {"k\\u0000": 1}}'):
        invalid(await api.client.post("/api/v1/courses", content=body, headers=headers), "body")
    assert await count(api, CourseRow, instructor_id=instructor.user["id"]) == 0  # nothing was created
    literal = await api.client.post("/api/v1/courses", content=b'{"title": "Back\\\\u0000slash"}', headers=headers)
    assert literal.status_code == 201, literal.text
    assert literal.json()["title"] == "Back\\u0000slash"


async def test_bad_bytes_in_queries_forms_and_json_are_validation_problems(api: Api) -> None:
    """NUL in a query parameter or a form field, and a JSON body that is not UTF-8: 422 naming
    where (each was a 500 on PostgreSQL), after the authentication a route asks for."""
    for query, field in (("q=%00", "query.q"), ("category=a%00b", "query.category"), ("page=1&q%00=x", "query.q")):
        invalid(await api.client.get(f"/api/v1/courses?{query}"), field)
    problem(await api.client.get("/api/v1/users/me?x=%00"), 401, "Not authenticated")  # authentication first
    form = {"content-type": "application/x-www-form-urlencoded"}
    r = await api.client.post("/api/v1/auth/token", content=b"username=a%00b@example.com&password=x", headers=form)
    invalid(r, "form.username")
    r = await api.client.post("/api/v1/auth/token", content=b"username=a@example.com&password=x\x00y", headers=form)
    invalid(r, "form.password")
    json = {"content-type": "application/json"}
    for path, body in (
        ("/api/v1/auth/login", b'{"email": "a\xff@example.com", "password": "password-1"}'),
        ("/api/v1/auth/register", b'{"email": "b@example.com", "full_name": "\xc3\x28", "password": "pass-word-1"}'),
    ):
        r = await api.client.post(path, content=body, headers=json)
        invalid(r, "body")
        assert r.json()["errors"][0]["message"] == "Request body is not valid UTF-8"


async def test_options_lists_every_method_of_the_path(api: Api) -> None:
    expected = {
        "/api/v1/courses": "GET, HEAD, OPTIONS, POST",
        "/api/v1/users/me": "DELETE, GET, HEAD, OPTIONS, PATCH",
        "/api/v1/courses/00000000-0000-0000-0000-000000000001": "DELETE, GET, HEAD, OPTIONS, PATCH",
        "/api/v1/enrollments": "OPTIONS, POST",
    }
    for path, allow in expected.items():
        r = await api.client.options(path)
        assert r.status_code == 204, (path, r.text)
        assert r.headers["allow"] == allow, path


async def test_null_for_a_member_that_cannot_be_cleared_is_400(api: Api) -> None:
    instructor = await user_with_role(api, "instructor")
    course = await create_course(api, instructor)
    url = f"/api/v1/courses/{course['id']}"
    for member in ("title", "is_published"):
        problem(
            await api.client.patch(url, json={member: None}, headers=instructor.headers),
            400,
            f"'{member}' cannot be null",
        )
    r = await api.client.patch(url, json={"description": None}, headers=instructor.headers)
    assert r.status_code == 200
    problem(
        await api.client.patch("/api/v1/users/me", json={"full_name": None}, headers=instructor.headers),
        400,
        "'full_name' cannot be null",
    )
    # A create body is no PATCH: a null there is the wrong type.
    invalid(await api.client.post("/api/v1/courses", json={"title": None}, headers=instructor.headers), "body.title")


async def test_the_document_says_which_patch_members_are_nullable(api: Api) -> None:
    schemas = (await api.client.get("/schema/openapi.json")).json()["components"]["schemas"]

    def nullable(schema: str, member: str) -> bool:
        spec = schemas[schema]["properties"][member]
        return any(option.get("type") == "null" for option in spec.get("oneOf", [spec]))

    for schema, member in (
        ("CourseUpdate", "title"),
        ("CourseUpdate", "is_published"),
        ("LessonUpdate", "lesson_type"),
        ("LessonUpdate", "order_index"),
        ("LessonUpdate", "is_preview"),
        ("ProfileUpdate", "full_name"),
        ("UserUpdate", "is_active"),
        ("UserUpdate", "role"),
    ):
        assert not nullable(schema, member), (schema, member)
    assert nullable("CourseUpdate", "description")
    assert nullable("LessonUpdate", "parent_lesson_id")


async def test_unhandled_error_log_line_names_the_request_id(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(CatalogService, "list_courses", broken)
    with caplog.at_level(logging.ERROR, logger="lms.http"):
        r = await api.client.get("/api/v1/courses", headers={"X-Request-ID": "trace-me-42"})
    problem(r, 500, "Internal server error")
    assert any("(request trace-me-42)" in record.getMessage() for record in caplog.records)


async def test_link_keeps_the_clients_query_order(make_api: MakeApiFn) -> None:
    first = await make_api()
    second = await make_api()
    owner = await user_with_role(first, "instructor")
    for _ in range(3):
        await publish(first, owner, (await create_course(first, owner, category="x"))["id"])
    for query in ("mine=false&category=x&page_size=1", "category=x&mine=false&page_size=1"):
        links = {(await a.client.get(f"/api/v1/courses?{query}")).headers["link"] for a in (first, second)}
        assert len(links) == 1
        (link,) = links
        assert link.startswith(f"</api/v1/courses?{query.removesuffix('&page_size=1')}&page=1&page_size=1>")


async def test_docs_redirects_to_the_interactive_docs(api: Api) -> None:
    r = await api.client.get("/docs")
    assert r.status_code == 307
    assert r.headers["location"] == "/schema"


async def test_a_routes_dependencies_resolve_one_after_another(api: Api) -> None:
    """None of ours does I/O, so no route pays for a task group to resolve them side by side."""
    app = api.client._transport.app  # type: ignore[attr-defined]
    models = [
        model for route in app.routes if isinstance(route, HTTPRoute) for _, model in route.route_handler_map.values()
    ]
    several = [model for model in models if sum(len(batch) for batch in model.dependency_batches) >= 2]
    assert several  # my-courses: the principal and the page, among others
    assert all(len(batch) == 1 for model in models for batch in model.dependency_batches)
    mine = await api.client.get("/api/v1/enrollments/my-courses?page_size=5", headers=(await api.register()).headers)
    assert (mine.status_code, mine.json()["page_size"]) == (200, 5)
