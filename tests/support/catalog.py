"""Helpers for catalog tests: users of each role, courses and lessons made through the API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.support.api import PASSWORD, Api, Session, unique_email

_titles = itertools.count(1)


def unique_title(prefix: str = "Course") -> str:
    return f"{prefix} number {next(_titles)}"


async def user_with_role(api: Api, role: str) -> Session:
    if role == "student":
        return await api.register()
    admin = await api.admin()
    if role == "admin":
        return admin
    email = unique_email(role)
    r = await api.client.post(
        "/api/v1/users",
        json={"email": email, "full_name": f"A {role}", "password": PASSWORD, "role": role},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    return await api.login(email)


async def create_course(api: Api, owner: Session, **body: Any) -> dict[str, Any]:
    r = await api.client.post(
        "/api/v1/courses", json={"title": body.pop("title", unique_title()), **body}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def publish(api: Api, owner: Session, course_id: str) -> dict[str, Any]:
    r = await api.client.post(f"/api/v1/courses/{course_id}/publish", headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def create_lesson(api: Api, owner: Session, course_id: str, **body: Any) -> dict[str, Any]:
    body.setdefault("title", unique_title("Lesson"))
    body.setdefault("lesson_type", "text")
    r = await api.client.post(f"/api/v1/courses/{course_id}/lessons", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


@dataclass
class Cast:
    """Everyone a catalog route can meet: the course's owner, another instructor, an admin, a student."""

    owner: Session
    other: Session
    admin: Session
    student: Session

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else getattr(self, who).headers


async def cast_of(api: Api) -> Cast:
    return Cast(
        owner=await user_with_role(api, "instructor"),
        other=await user_with_role(api, "instructor"),
        admin=await user_with_role(api, "admin"),
        student=await user_with_role(api, "student"),
    )
