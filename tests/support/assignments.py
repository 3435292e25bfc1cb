"""Helpers for assignment tests: a published course with an assignment on its lesson, through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.api import Api, Session
from tests.support.learning import Classroom, classroom, enroll


@dataclass
class AssignmentRoom:
    room: Classroom
    assignment: dict[str, Any]
    enrollment_id: str

    @property
    def url(self) -> str:
        return f"/api/v1/courses/{self.room.course_id}/assignments/{self.assignment['id']}"

    @property
    def submissions(self) -> str:
        return f"/api/v1/assignments/{self.assignment['id']}/submissions"


def assignment_body(**body: Any) -> dict[str, Any]:
    return {"title": "Write a runbook", "submission_types": ["text"], "max_points": "10", **body}


async def create_assignment(api: Api, owner: Session, course_id: str, **body: Any) -> dict[str, Any]:
    r = await api.client.post(
        f"/api/v1/courses/{course_id}/assignments", json=assignment_body(**body), headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def assignment_room(api: Api, lessons: int = 1, *, publish: bool = True, **body: Any) -> AssignmentRoom:
    """A published course of `lessons` lessons whose first carries the assignment, and the cast's
    student enrolled in it."""
    room = await classroom(api, lessons)
    body.setdefault("lesson_id", room.lessons[0]["id"])
    assignment = await create_assignment(api, room.cast.owner, room.course_id, **body)
    room_ = AssignmentRoom(room, assignment, "")
    if publish:
        r = await api.client.post(f"{room_.url}/publish", headers=room.cast.owner.headers)
        assert r.status_code == 200, r.text
        room_.assignment = r.json()
    room_.enrollment_id = (await enroll(api, room.cast.student, room.course_id))["id"]
    return room_


async def submit(api: Api, who: Session, room: AssignmentRoom, status: int = 201, **body: Any) -> dict[str, Any]:
    r = await api.client.post(room.submissions, json=body or {"text": "My answer"}, headers=who.headers)
    assert r.status_code == status, r.text
    return dict(r.json())


async def grade(api: Api, who: Session, submission_id: str, status: int = 200, **body: Any) -> dict[str, Any]:
    r = await api.client.post(f"/api/v1/submissions/{submission_id}/grade", json=body, headers=who.headers)
    assert r.status_code == status, r.text
    return dict(r.json())
