"""The course read by slug (API §12) answers as the read by id: body, visibility, errors, cache
and `ETag`, on both backends."""

from __future__ import annotations

from tests.http.test_auth import problem
from tests.support.api import Api
from tests.support.catalog import cast_of, create_course, publish


async def test_a_course_by_slug_answers_as_by_id(api: Api) -> None:
    cast = await cast_of(api)
    course = await create_course(api, cast.owner, title="Slugs and paths")
    by_slug = f"/api/v1/courses/slug/{course['slug']}"
    by_id = f"/api/v1/courses/{course['id']}"
    # A draft: its managers read it; anyone else is refused as by id.
    for who in (cast.owner, cast.admin):
        r = await api.client.get(by_slug, headers=who.headers)
        assert (r.status_code, r.json()["id"]) == (200, course["id"])
    for headers in (cast.student.headers, cast.other.headers, {}):
        refused = await api.client.get(by_slug, headers=headers)
        problem(refused, 403, "Not authorized to access this course")
        assert refused.json() == (await api.client.get(by_id, headers=headers)).json()
    await publish(api, cast.owner, course["id"])
    one, two = await api.client.get(by_slug), await api.client.get(by_id)
    assert (one.status_code, one.json(), one.headers["etag"]) == (200, two.json(), two.headers["etag"])
    r = await api.client.get(by_slug, headers={"If-None-Match": one.headers["etag"]})
    assert (r.status_code, r.content) == (304, b"")
    # A change shows at once through both (one cache entry).
    r = await api.client.patch(by_id, json={"description": "Changed"}, headers=cast.owner.headers)
    assert r.status_code == 200, r.text
    assert (await api.client.get(by_slug)).json()["description"] == "Changed"
    problem(await api.client.get("/api/v1/courses/slug/no-such-course"), 404, "Course not found")
    # As on every optional-auth read, a token that does not verify reads as anonymous.
    assert (await api.client.get(by_slug, headers={"Authorization": "Bearer forged"})).status_code == 200
