"""Question banks and drawn quizzes (API §12) on both backends: the bank routes and who may use
them, quizzes that draw from banks (publish checks, delete protection), and attempts whose drawn
questions are fixed: the take view, the submission and a later review see the same paper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.http.test_auth import problem
from tests.support.api import Api, Session
from tests.support.learning import Classroom, classroom, enroll

MANAGE = "Not authorized to manage quizzes for this course"


def mc(n: int, points: str = "1") -> dict[str, Any]:
    """A multiple choice question whose right option is `right`."""
    return {
        "question_text": f"Bank question number {n}",
        "question_type": "multiple_choice",
        "points": points,
        "options": [
            {"option_id": "right", "option_text": "Right", "is_correct": True},
            {"option_id": "wrong", "option_text": "Wrong"},
        ],
    }


@dataclass
class Banked:
    room: Classroom
    bank: dict[str, Any]
    questions: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"/api/v1/courses/{self.room.course_id}/question-banks"

    @property
    def owner(self) -> Session:
        return self.room.cast.owner


async def banked(api: Api, size: int = 5, name: str = "Status codes") -> Banked:
    room = await classroom(api, lessons=2)
    owner = room.cast.owner
    url = f"/api/v1/courses/{room.course_id}/question-banks"
    r = await api.client.post(url, json={"name": name, "description": "HTTP"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    bank = r.json()
    questions = []
    for n in range(size):
        r = await api.client.post(f"{url}/{bank['id']}/questions", json=mc(n), headers=owner.headers)
        assert r.status_code == 201, r.text
        questions.append(r.json())
    return Banked(room, bank, questions)


async def make_quiz(api: Api, b: Banked, *, own: int = 1, **quiz: Any) -> dict[str, Any]:
    owner, course_id = b.owner, b.room.course_id
    r = await api.client.post(
        f"/api/v1/courses/{course_id}/quizzes",
        json={"lesson_id": b.room.lessons[-1]["id"], "title": "Drawn checkpoint", **quiz},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    for n in range(own):
        r = await api.client.post(
            f"/api/v1/courses/{course_id}/quizzes/{made['id']}/questions", json=mc(100 + n, "3"), headers=owner.headers
        )
        assert r.status_code == 201, r.text
    return dict(made)


async def test_banks_and_their_questions_are_for_managers(api: Api) -> None:
    b = await banked(api, size=2)
    owner, student, other = b.owner, b.room.cast.student, b.room.cast.other
    assert (b.bank["name"], b.bank["description"], b.bank["question_count"]) == ("Status codes", "HTTP", 0)
    assert b.bank["course_id"] == b.room.course_id
    bank_url = f"{b.url}/{b.bank['id']}"
    r = await api.client.get(bank_url, headers=owner.headers)
    assert (r.status_code, r.json()["question_count"]) == (200, 2)
    listed = (await api.client.get(b.url, headers=owner.headers)).json()
    assert [(x["id"], x["question_count"]) for x in listed["items"]] == [(b.bank["id"], 2)]
    question = b.questions[0]
    assert (question["bank_id"], question["quiz_id"]) == (b.bank["id"], None)
    for who in (student, other):
        problem(await api.client.get(b.url, headers=who.headers), 403, MANAGE)
        problem(await api.client.get(bank_url, headers=who.headers), 403, MANAGE)
        problem(await api.client.post(f"{bank_url}/questions", json=mc(9), headers=who.headers), 403, MANAGE)
    assert (await api.client.get(b.url)).status_code == 401
    # Renaming, and the questions' own routes.
    r = await api.client.patch(bank_url, json={"name": "Codes", "description": None}, headers=owner.headers)
    assert (r.status_code, r.json()["name"], r.json()["description"]) == (200, "Codes", None)
    problem(await api.client.patch(bank_url, json={"name": None}, headers=owner.headers), 400, "'name' cannot be null")
    q_url = f"{bank_url}/questions/{question['id']}"
    r = await api.client.patch(q_url, json={"points": "4"}, headers=owner.headers)
    assert (r.status_code, r.json()["points"]) == (200, "4.00")
    assert (await api.client.get(q_url, headers=owner.headers)).json()["points"] == "4.00"
    page = (await api.client.get(f"{bank_url}/questions", headers=owner.headers)).json()
    assert [q["id"] for q in page["items"]] == [q["id"] for q in b.questions]
    bad = {**mc(7), "question_type": "multiple_response"}
    problem(
        await api.client.post(f"{bank_url}/questions", json=bad, headers=owner.headers),
        400,
        "A multiple response question needs at least two correct options",
    )
    assert (await api.client.delete(q_url, headers=owner.headers)).status_code == 204
    problem(await api.client.get(q_url, headers=owner.headers), 404, "Question not found")
    # Unknown ids, and a bank reached through another course.
    missing = "00000000-0000-0000-0000-00000000abcd"
    problem(await api.client.get(f"{b.url}/{missing}", headers=owner.headers), 404, "Question bank not found")
    problem(
        await api.client.get(f"/api/v1/courses/{missing}/question-banks", headers=owner.headers),
        404,
        "Course not found",
    )
    elsewhere = await banked(api, size=0, name="Elsewhere")
    foreign = f"{elsewhere.url}/{b.bank['id']}"
    problem(await api.client.get(foreign, headers=elsewhere.owner.headers), 404, "Question bank not found")
    problem(
        await api.client.get(
            f"{elsewhere.url}/{elsewhere.bank['id']}/questions/{b.questions[1]['id']}", headers=elsewhere.owner.headers
        ),
        404,
        "Question not found",
    )
    assert (await api.client.get(f"{b.url}/not-a-uuid", headers=owner.headers)).status_code == 422
    assert (await api.client.post(b.url, json={"name": ""}, headers=owner.headers)).status_code == 422
    assert (await api.client.post(b.url, json={"name": "x" * 256}, headers=owner.headers)).status_code == 422


async def test_a_drawn_quiz_is_checked_when_published_and_keeps_its_bank(api: Api) -> None:
    b = await banked(api, size=2)
    owner, course_id = b.owner, b.room.course_id
    missing = "00000000-0000-0000-0000-00000000abcd"
    r = await api.client.post(
        f"/api/v1/courses/{course_id}/quizzes",
        json={"lesson_id": b.room.lessons[-1]["id"], "title": "Nowhere", "draws": [{"bank_id": missing, "count": 1}]},
        headers=owner.headers,
    )
    problem(r, 404, "Question bank not found")
    quiz = await make_quiz(api, b, own=0, draws=[{"bank_id": b.bank["id"], "count": 3, "points_each": "2"}])
    assert quiz["draws"] == [{"bank_id": b.bank["id"], "count": 3, "points_each": "2.00"}]
    quiz_url = f"/api/v1/courses/{course_id}/quizzes/{quiz['id']}"
    publish = f"{quiz_url}/publish"
    problem(
        await api.client.post(publish, headers=owner.headers),
        400,
        "Question bank Status codes has fewer than 3 questions",
    )
    r = await api.client.post(f"{b.url}/{b.bank['id']}/questions", json=mc(3), headers=owner.headers)
    assert r.status_code == 201
    r = await api.client.post(publish, headers=owner.headers)  # every question drawn: publishable
    assert (r.status_code, r.json()["is_published"]) == (200, True), r.text
    # A published quiz's draws change only to what its banks hold.
    r = await api.client.patch(quiz_url, json={"draws": [{"bank_id": b.bank["id"], "count": 4}]}, headers=owner.headers)
    problem(r, 400, "Question bank Status codes has fewer than 4 questions")
    problem(
        await api.client.patch(quiz_url, json={"draws": None}, headers=owner.headers), 400, "'draws' cannot be null"
    )
    for draw in ({"bank_id": b.bank["id"], "count": 0}, {"bank_id": b.bank["id"], "count": 101}, {"count": 1}):
        r = await api.client.patch(quiz_url, json={"draws": [draw]}, headers=owner.headers)
        assert r.status_code == 422, (draw, r.text)
    problem(
        await api.client.delete(f"{b.url}/{b.bank['id']}", headers=owner.headers),
        409,
        "Question bank is used by a quiz",
    )
    r = await api.client.patch(quiz_url, json={"draws": []}, headers=owner.headers)
    assert (r.status_code, r.json()["draws"]) == (200, [])
    assert (await api.client.delete(f"{b.url}/{b.bank['id']}", headers=owner.headers)).status_code == 204


async def test_an_attempt_draws_its_paper_once(api: Api) -> None:
    b = await banked(api, size=6)
    quiz = await make_quiz(
        api, b, own=1, draws=[{"bank_id": b.bank["id"], "count": 3, "points_each": "2"}], show_correct_answers=False
    )
    owner, student, course_id = b.owner, b.room.cast.student, b.room.course_id
    r = await api.client.post(f"/api/v1/courses/{course_id}/quizzes/{quiz['id']}/publish", headers=owner.headers)
    assert r.status_code == 200, r.text
    await enroll(api, student, course_id)
    attempts = f"/api/v1/quizzes/{quiz['id']}/attempts"
    r = await api.client.post(attempts, headers=student.headers)
    assert r.status_code == 201, r.text
    attempt = r.json()
    assert attempt["max_score"] == "9.00"  # its own question's 3 points and three drawn at 2 each
    (listed,) = (await api.client.get(f"/api/v1/courses/{course_id}/quizzes", headers=student.headers)).json()["items"]
    assert (listed["total_questions"], listed["total_points"]) == (4, "9.00")

    async def paper() -> dict[str, dict[str, Any]]:
        r = await api.client.get(f"{attempts}/start", headers=student.headers)
        assert r.status_code == 200, r.text
        assert r.json()["quiz"]["total_points"] == "9.00"
        return {q["id"]: q for q in r.json()["questions"]}

    seen = await paper()
    again = await paper()  # the same questions on every read (options shuffled anew)
    assert len(seen) == 4 and {k: v["points"] for k, v in again.items()} == {k: v["points"] for k, v in seen.items()}
    bank_ids = {q["id"] for q in b.questions}
    drawn = [qid for qid in seen if qid in bank_ids]
    assert len(drawn) == 3 and all(seen[qid]["points"] == "2.00" for qid in drawn)
    assert all("is_correct" not in o for q in seen.values() for o in q["options"])  # answers stay hidden
    # A bank question this attempt did not draw is foreign to it.
    other = next(qid for qid in bank_ids if qid not in seen)
    r = await api.client.post(
        f"{attempts}/{attempt['id']}/submit",
        json={"answers": [{"question_id": other, "selected_option_id": "right"}]},
        headers=student.headers,
    )
    problem(r, 400, "Answer contains a question that does not belong to this quiz")
    answers = [{"question_id": qid, "selected_option_id": "right"} for qid in seen]
    answers[0]["selected_option_id"] = "wrong"  # one wrong: the own question or a drawn one
    r = await api.client.post(f"{attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=student.headers)
    assert r.status_code == 200, r.text
    result = r.json()
    first = next(iter(seen))
    assert result["score"] == ("6.00" if first not in bank_ids else "7.00")
    assert sorted(a["question_id"] for a in result["answers"]) == sorted(seen)
    assert all("is_correct" not in a and "points_earned" not in a for a in result["answers"])  # masked (§7.8)
    review = (await api.client.get(f"{attempts}/{attempt['id']}", headers=student.headers)).json()
    assert review["score"] == result["score"] and review["max_score"] == "9.00"
    revealed = (await api.client.get(f"{attempts}/{attempt['id']}", headers=owner.headers)).json()
    points = {a["question_id"]: a["points_earned"] for a in revealed["answers"]}
    assert {points[qid] for qid in drawn} <= {"2.00", "0.00"}
