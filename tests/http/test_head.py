"""HEAD on every GET route (RFC 9110 §9.3.2), on both backends: the GET's status and headers,
no body; `Allow` names HEAD wherever it names GET."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.catalog import cast_of, create_course, publish


async def test_head_answers_like_get_without_the_body(api: Api) -> None:
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    for path, headers in (
        ("/api/v1/health", {}),
        ("/api/v1/courses", {}),
        (f"/api/v1/courses/{course['id']}", {}),
        ("/api/v1/users/me", cast.student.headers),
        ("/metrics", {}),
    ):
        got = await api.client.get(path, headers=headers)
        head = await api.client.head(path, headers=headers)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers["content-type"] == got.headers["content-type"], path
        if path != "/metrics":  # the metrics count the GET itself
            assert head.headers["content-length"] == str(len(got.content)), path
        assert head.headers.get("etag") == got.headers.get("etag"), path


async def test_head_follows_the_get_routes_rules(api: Api) -> None:
    r = await api.client.head("/api/v1/users/me")
    assert (r.status_code, r.content) == (401, b"")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await api.client.head("/api/v1/no-such-route")).status_code == 404
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    etag = (await api.client.get(f"/api/v1/courses/{course['id']}")).headers["etag"]
    r = await api.client.head(f"/api/v1/courses/{course['id']}", headers={"If-None-Match": etag})
    assert r.status_code == 304


async def test_allow_names_head(api: Api) -> None:
    r = await api.client.options("/api/v1/courses")
    assert "HEAD" in [m.strip() for m in r.headers["allow"].split(",")]
    r = await api.client.delete("/api/v1/health")
    assert r.status_code == 405
    assert {"GET", "HEAD"} <= {m.strip() for m in r.headers["allow"].split(",")}
    r = await api.client.request("HEAD", "/api/v1/auth/login")  # a POST-only route: no GET, no HEAD
    assert r.status_code == 405
    assert "HEAD" not in r.headers["allow"]
