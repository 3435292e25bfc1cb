"""Prerequisite changes racing on PostgreSQL (two app instances on one database): two changes that
would each be fine alone but together close a cycle end with one of them refused."""

from __future__ import annotations

import asyncio

from tests.http.conftest import MakeApiFn
from tests.support.catalog import cast_of, create_course


async def test_two_changes_cannot_close_a_cycle_together(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    cast = await cast_of(one)
    for _ in range(3):
        a, b = [await create_course(one, cast.owner, title=f"Race {n}") for n in "ab"]
        results = await asyncio.gather(
            one.client.put(
                f"/api/v1/courses/{a['id']}/prerequisites", json={"course_ids": [b["id"]]}, headers=cast.owner.headers
            ),
            two.client.put(
                f"/api/v1/courses/{b['id']}/prerequisites", json={"course_ids": [a["id"]]}, headers=cast.owner.headers
            ),
        )
        assert sorted(r.status_code for r in results) == [200, 400]
        refused = next(r for r in results if r.status_code == 400)
        assert refused.json()["detail"] == "Prerequisites cannot form a cycle"
