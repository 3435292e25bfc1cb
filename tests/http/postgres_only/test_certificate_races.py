"""Two certificate generations at once on PostgreSQL end with one certificate."""

from __future__ import annotations

import asyncio
from uuid import UUID

from sqlalchemy import delete, func, select, update

from adapters.sql.models import CertificateRow, EnrollmentRow
from tests.http.conftest import MakeApiFn
from tests.support.learning import classroom, complete, enroll


async def test_two_generations_at_once_issue_one_certificate(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    room = await classroom(one, lessons=1)
    for _ in range(3):
        other = await one.register()
        eid = (await enroll(one, other, room.course_id))["id"]
        await complete(one, other, eid, room.lessons[0]["id"])
        # As for an enrollment completed before certificates were issued with completions:
        async with one.container.sessions() as session:
            await session.execute(delete(CertificateRow).where(CertificateRow.enrollment_id == UUID(eid)))
            await session.execute(
                update(EnrollmentRow).where(EnrollmentRow.id == UUID(eid)).values(certificate_issued_at=None)
            )
            await session.commit()
        url = f"/api/v1/certificates/enrollments/{eid}/generate"
        results = await asyncio.gather(*(api.client.post(url, headers=other.headers) for api in (one, two)))
        assert sorted(r.status_code for r in results) == [200, 201]
        assert results[0].json()["id"] == results[1].json()["id"]
        async with one.container.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(CertificateRow).where(CertificateRow.enrollment_id == UUID(eid))
            )
        assert count == 1
