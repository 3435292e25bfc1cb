"""`lms demo seed` (API §8.4) on both backends: the demo accounts, course and quiz; idempotent;
`--students N` adds a history through the use cases; the README's login works afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.conftest import lms, lms_env, serving
from tests.support.databases import PostgresDatabases

TABLES = ("users", "courses", "lessons", "quizzes", "questions", "enrollments", "lesson_progress", "quiz_attempts",
          "certificates", "assignments", "submissions")  # fmt: skip


def counts(database: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        engine = create_async_engine(database)
        try:
            async with engine.connect() as conn:
                return {t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()) for t in TABLES}
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    pg: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return asyncio.run(pg.create_empty())


def test_demo_seed_is_idempotent_and_signs_in(tmp_path: Path, database: str) -> None:
    env = lms_env(tmp_path, LMS_DATABASE_URL=database, LMS_ENVIRONMENT="development")
    first = lms("demo", "seed", env=env)
    assert first.returncode == 0, first.stderr
    assert "student@lms.local / StudentPass123" in first.stdout
    after_first = counts(database)
    made = ("users", "courses", "lessons", "quizzes", "questions", "enrollments", "assignments", "submissions")
    assert {k: after_first[k] for k in made} == {
        "users": 3,
        "courses": 2,  # the second requires the first, opens lesson by lesson, and draws its quiz
        "lessons": 5,
        "quizzes": 2,
        "questions": 11,  # three of each quiz, and five in the second course's bank
        "enrollments": 1,
        "assignments": 1,
        "submissions": 2,
    }
    again = lms("demo", "seed", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert counts(database) == after_first

    history = lms("demo", "seed", "--students", "6", env=env, timeout=300)
    assert history.returncode == 0, history.stderr
    assert "6/6" in history.stdout
    grown = counts(database)
    assert grown["users"] == 9 and grown["courses"] == 3 and grown["enrollments"] >= 7
    assert grown["lesson_progress"] > 0 and grown["quiz_attempts"] > 0
    assert lms("demo", "seed", "--students", "6", env=env, timeout=300).returncode == 0
    assert counts(database) == grown

    with serving(env) as base:
        r = httpx.post(f"{base}/api/v1/auth/login", json={"email": "student@lms.local", "password": "StudentPass123"})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}
        mine = httpx.get(f"{base}/api/v1/enrollments/my-courses", headers=headers).json()
        assert [item["course_id"] for item in mine["items"]]
        r = httpx.post(
            f"{base}/api/v1/auth/login", json={"email": "instructor@lms.local", "password": "InstructorPass123"}
        )
        headers = {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}
        overview = httpx.get(
            f"{base}/api/v1/analytics/instructors/{r.json()['user']['id']}/overview", headers=headers
        ).json()
        assert overview["total_courses"] == 3 and overview["total_enrollments"] == grown["enrollments"]
        # The demo course's gradebook has the demo assignment graded, and its revision waits in the queue.
        mine = httpx.get(f"{base}/api/v1/courses?mine=true", headers=headers).json()["items"]
        demo = next(c for c in mine if c["slug"] == "demo-introduction-to-web-apis")
        reliable = next(c for c in mine if c["slug"] == "demo-reliable-services")
        assert [p["slug"] for p in reliable["prerequisites"]] == [demo["slug"]]
        assert reliable["sequential"] is True
        lessons = httpx.get(f"{base}/api/v1/courses/{reliable['id']}/lessons").json()["items"]
        assert [lesson["lock"] is None for lesson in lessons] == [True, False, False]  # anonymous: the first only
        (quiz,) = httpx.get(f"{base}/api/v1/courses/{reliable['id']}/quizzes", headers=headers).json()["items"]
        drawn = httpx.get(f"{base}/api/v1/courses/{reliable['id']}/quizzes/{quiz['id']}", headers=headers).json()
        assert [d["count"] for d in drawn["draws"]] == [2]
        book = httpx.get(f"{base}/api/v1/courses/{demo['id']}/gradebook", headers=headers).json()
        (assignment,) = [i for i in book["items"] if i["kind"] == "assignment"]
        row = next(r for r in book["rows"]["items"] if r["email"] == "student@lms.local")
        grade = next(g for g in row["grades"] if g["item_id"] == assignment["id"])
        assert (grade["status"], grade["percentage"]) == ("graded", "80.00")
        queue = httpx.get(f"{base}/api/v1/courses/{demo['id']}/grading-queue", headers=headers).json()
        assert [i["kind"] for i in queue["items"]] == ["submission"]


def test_demo_seed_refuses_a_negative_count(tmp_path: Path) -> None:
    result = lms("demo", "seed", "--students", "-1", env=lms_env(tmp_path))
    assert result.returncode == 2
