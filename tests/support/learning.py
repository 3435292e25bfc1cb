"""Helpers for learning tests: a published course with lessons, enrollments and progress through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from adapters.sql.models import AuditLogRow
from tests.support.api import Api, Session
from tests.support.catalog import Cast, cast_of, create_course, create_lesson, publish


@dataclass
class Classroom:
    """A published course of the cast's owner with `lessons`, and everyone a learning route meets."""

    cast: Cast
    course: dict[str, Any]
    lessons: list[dict[str, Any]]

    @property
    def course_id(self) -> str:
        return str(self.course["id"])


async def classroom(api: Api, lessons: int = 3, *, published: bool = True) -> Classroom:
    cast = await cast_of(api)
    course = await create_course(api, cast.owner)
    made = [await create_lesson(api, cast.owner, course["id"]) for _ in range(lessons)]
    if published:
        course = await publish(api, cast.owner, course["id"])
    return Classroom(cast=cast, course=course, lessons=made)


async def enroll(api: Api, who: Session, course_id: str, status: int = 201) -> dict[str, Any]:
    r = await api.client.post("/api/v1/enrollments", json={"course_id": course_id}, headers=who.headers)
    assert r.status_code == status, r.text
    return dict(r.json())


async def progress(api: Api, who: Session, enrollment_id: str, lesson_id: str, **body: Any) -> Any:
    return await api.client.put(
        f"/api/v1/enrollments/{enrollment_id}/lessons/{lesson_id}/progress", json=body, headers=who.headers
    )


async def complete(api: Api, who: Session, enrollment_id: str, lesson_id: str) -> Any:
    return await api.client.post(
        f"/api/v1/enrollments/{enrollment_id}/lessons/{lesson_id}/complete", headers=who.headers
    )


async def enrollment(api: Api, who: Session, enrollment_id: str) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/enrollments/{enrollment_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def audit_actions(api: Api, subject_id: str | None = None) -> list[tuple[str, str | None]]:
    """The audit log's (action, actor id) pairs, oldest first; of one subject when given."""
    query = select(AuditLogRow.action, AuditLogRow.actor_id, AuditLogRow.subject_id).order_by(AuditLogRow.id)
    async with api.container.sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        (action, str(actor) if actor else None)
        for action, actor, subject in rows
        if subject_id is None or str(subject) == subject_id
    ]


MC_QUESTION = {
    "question_text": "Which status means conflict?",
    "question_type": "multiple_choice",
    "points": "2",
    "explanation": "409 is Conflict.",
    "options": [{"option_text": "404"}, {"option_text": "409", "is_correct": True}, {"option_text": "500"}],
}
TF_QUESTION = {"question_text": "HTTP is stateless", "question_type": "true_false", "correct_answer": "true"}
SA_QUESTION = {"question_text": "Name the verb that replaces", "question_type": "short_answer", "correct_answer": "PUT"}


@dataclass
class QuizRoom:
    """A published course whose last lesson carries a published quiz of three questions."""

    room: Classroom
    quiz: dict[str, Any]
    questions: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"/api/v1/courses/{self.room.course_id}/quizzes/{self.quiz['id']}"

    @property
    def attempts(self) -> str:
        return f"/api/v1/quizzes/{self.quiz['id']}/attempts"

    def right_answers(self) -> list[dict[str, Any]]:
        mc, tf, sa = self.questions
        correct = next(o["option_id"] for o in mc["options"] if o["is_correct"])
        return [
            {"question_id": mc["id"], "selected_option_id": correct},
            {"question_id": tf["id"], "answer_text": " True "},
            {"question_id": sa["id"], "answer_text": "put"},
        ]


async def quiz_room(api: Api, lessons: int = 2, *, publish_quiz: bool = True, **quiz: Any) -> QuizRoom:
    room = await classroom(api, lessons=lessons)
    owner = room.cast.owner
    r = await api.client.post(
        f"/api/v1/courses/{room.course_id}/quizzes",
        json={"lesson_id": room.lessons[-1]["id"], "title": "Checkpoint", **quiz},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    questions = []
    for body in (MC_QUESTION, TF_QUESTION, SA_QUESTION):
        r = await api.client.post(
            f"/api/v1/courses/{room.course_id}/quizzes/{made['id']}/questions", json=body, headers=owner.headers
        )
        assert r.status_code == 201, r.text
        questions.append(r.json())
    if publish_quiz:
        r = await api.client.post(
            f"/api/v1/courses/{room.course_id}/quizzes/{made['id']}/publish", headers=owner.headers
        )
        assert r.status_code == 200, r.text
        made = r.json()
    return QuizRoom(room=room, quiz=made, questions=questions)
