"""Multiple response questions with partial credit over HTTP (API §12), on both backends."""

from __future__ import annotations

from typing import Any

from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.learning import enroll, quiz_room

MR_QUESTION = {
    "question_text": "Which of these are application protocols?",
    "question_type": "multiple_response",
    "points": "3",
    "options": [
        {"option_id": "http", "option_text": "HTTP", "is_correct": True},
        {"option_id": "smtp", "option_text": "SMTP", "is_correct": True},
        {"option_id": "amqp", "option_text": "AMQP", "is_correct": True},
        {"option_id": "ruby", "option_text": "Ruby"},
    ],
}


async def test_partial_credit_through_an_attempt(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    url = f"{qr.url}/questions"
    one_correct = {
        **MR_QUESTION,
        "options": [{**o, "is_correct": o["option_id"] == "http"} for o in MR_QUESTION["options"]],
    }
    problem(
        await api.client.post(url, json=one_correct, headers=owner.headers),
        400,
        "A multiple response question needs at least two correct options",
    )
    r = await api.client.post(url, json=MR_QUESTION, headers=owner.headers)
    assert r.status_code == 201, r.text
    mr = r.json()
    assert (mr["question_type"], sum(o["is_correct"] for o in mr["options"])) == ("multiple_response", 3)
    assert (await api.client.post(f"{qr.url}/publish", headers=owner.headers)).status_code == 200
    await enroll(api, student, qr.room.course_id)
    take = (await api.client.get(f"{qr.attempts}/start", headers=student.headers)).json()
    shown = next(q for q in take["questions"] if q["id"] == mr["id"])
    assert all("is_correct" not in o for o in shown["options"])

    async def submit(selected: Any, **extra: Any) -> Any:
        attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
        answers = [*qr.right_answers(), {"question_id": mr["id"], "selected_option_ids": selected, **extra}]
        return await api.client.post(
            f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=student.headers
        )

    r = await submit(["http", "smtp", "ruby", "http", "nope"])  # 2 right, 2 wrong (the unknown one too)
    assert r.status_code == 200, r.text
    body = r.json()
    answer = next(a for a in body["answers"] if a["question_id"] == mr["id"])
    assert (answer["selected_option_ids"], answer["points_earned"], answer["is_correct"]) == (
        ["http", "smtp", "ruby", "nope"],
        "0.00",
        False,
    )
    assert (body["score"], body["max_score"]) == ("4.00", "7.00")
    r = await submit(["http", "smtp"])
    answer = next(a for a in r.json()["answers"] if a["question_id"] == mr["id"])
    assert (answer["points_earned"], answer["is_correct"], r.json()["score"]) == ("2.00", False, "6.00")
    r = await submit(["amqp", "smtp", "http"])
    answer = next(a for a in r.json()["answers"] if a["question_id"] == mr["id"])
    assert (answer["points_earned"], answer["is_correct"], r.json()["percentage"]) == ("3.00", True, "100.00")
    # Bad answers change nothing: the attempt stays in progress.
    r = await submit(None)
    problem(r, 400, "Multiple response answers require selected_option_ids")
    attempt_id = r.request.url.path.split("/")[-2]
    invalid(
        await api.client.post(
            f"{qr.attempts}/{attempt_id}/submit",
            json={"answers": [{"question_id": mr["id"], "selected_option_ids": "http"}]},
            headers=student.headers,
        ),
        "body.answers.0.selected_option_ids",
    )
    mc = qr.questions[0]
    problem(
        await api.client.post(
            f"{qr.attempts}/{attempt_id}/submit",
            json={"answers": [{"question_id": mc["id"], "selected_option_ids": [mc["options"][0]["option_id"]]}]},
            headers=student.headers,
        ),
        400,
        "selected_option_ids is only valid for multiple response questions",
    )
    still = (await api.client.get(f"{qr.attempts}/{attempt_id}", headers=student.headers)).json()
    assert still["status"] == "in_progress"


async def test_masked_answers_hide_partial_points(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False, show_correct_answers=False)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    mr = (await api.client.post(f"{qr.url}/questions", json=MR_QUESTION, headers=owner.headers)).json()
    await api.client.post(f"{qr.url}/publish", headers=owner.headers)
    await enroll(api, student, qr.room.course_id)
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    answers = [{"question_id": mr["id"], "selected_option_ids": ["http"]}]
    r = await api.client.post(
        f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=student.headers
    )
    answer = next(a for a in r.json()["answers"] if a["question_id"] == mr["id"])
    assert "points_earned" not in answer and "is_correct" not in answer
    assert answer["selected_option_ids"] == ["http"] and r.json()["score"] == "1.00"
