"""xAPI statements (API §15.1) sent to a real LRS (Ralph, started by the suite) and read back from
it: one statement per learning event with the right actor, verb, object and result; a retry stores
no second copy; an LRS that is down gets every statement once it is back."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select, update

from adapters.sql.models import XAPI_STATEMENTS, OutboxEventRow
from adapters.xapi.lrs_client import HttpxLearningRecordStore
from domain.xapi.statements import statement_id
from tests.http.conftest import MakeApiFn
from tests.support.api import Api, Session, unique_email
from tests.support.assignments import assignment_room, grade, submit
from tests.support.learning import complete, enroll, progress, quiz_room
from tests.support.live import drained
from tests.support.lrs import PASSWORD, USERNAME, RalphLrs
from tests.support.servers import free_port
from tests.unit.fakes import FakeClock

FRONTEND = "http://localhost:3000"
ADL = "http://adlnet.gov/expapi/verbs/"


async def learner_everywhere(api: Api) -> tuple[Session, dict[str, Any]]:
    """A student who enrolls, reports progress, completes lessons, starts and passes a quiz
    (which completes the course) and has an assignment graded."""
    person = await api.register(email=unique_email("xapi"))
    quiz = await quiz_room(api, lessons=2)
    eid = (await enroll(api, person, quiz.room.course_id))["id"]
    first = quiz.room.lessons[0]["id"]
    assert (await progress(api, person, eid, first, completion_percentage=40)).status_code == 200
    assert (await complete(api, person, eid, first)).status_code == 200
    attempt = (await api.client.post(quiz.attempts, headers=person.headers)).json()
    r = await api.client.post(
        f"{quiz.attempts}/{attempt['id']}/submit", json={"answers": quiz.right_answers()}, headers=person.headers
    )
    assert r.status_code == 200, r.text
    room = await assignment_room(api)
    enrolled = (await enroll(api, person, room.room.course_id))["id"]
    submission = await submit(api, person, room, text="Runbook")
    await grade(api, room.room.cast.owner, submission["id"], points="8")
    return person, {"quiz": quiz, "enrollment": eid, "assignment": room, "assignment_enrollment": enrolled}


async def statements_of(lrs: RalphLrs, api: Api, person: Session, count: int) -> list[dict[str, Any]]:
    """The person's statements once `count` of them are stored (relay rounds run meanwhile)."""
    found: list[dict[str, Any]] = []
    for _ in range(200):
        await drained(api)
        found = [
            s for s in await asyncio.to_thread(lrs.statements) if s["actor"]["account"]["name"] == person.user["id"]
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(found)} of {count} statements reached the LRS")


async def test_learning_events_reach_the_lrs_as_statements(make_api: MakeApiFn, lrs: RalphLrs) -> None:
    api = await make_api(**lrs.settings())
    person, facts = await learner_everywhere(api)
    quiz = facts["quiz"]
    course_id, lessons = quiz.room.course_id, quiz.room.lessons
    expected = Counter(
        {
            "registered": 2,  # two courses
            # 40 %, then each lesson's completion: by its report, by passing the quiz, by the grade
            "progressed": 4,
            "completed": 5,  # three lessons and both courses
            "attempted": 1,
            "passed": 1,
            "scored": 1,
        }
    )
    found = await statements_of(lrs, api, person, sum(expected.values()))
    verbs = Counter(s["verb"]["display"]["en-US"] for s in found)
    assert verbs == expected, verbs
    assert all(s["verb"]["id"] == ADL + s["verb"]["display"]["en-US"] for s in found)
    for s in found:
        assert s["actor"] == {"objectType": "Agent", "account": {"homePage": FRONTEND, "name": person.user["id"]}}
        assert "mbox" not in str(s["actor"]) and person.email not in str(s)

    def one(verb: str, kind: str, activity: str) -> dict[str, Any]:
        (statement,) = [
            s
            for s in found
            if s["verb"]["display"]["en-US"] == verb
            and s["object"]["id"] == f"{FRONTEND}/xapi/activities/{kind}/{activity}"
        ]
        return statement

    registered = one("registered", "course", course_id)
    assert registered["object"]["definition"]["name"] == {"en": quiz.room.course["title"]}
    assert registered["context"]["registration"] == facts["enrollment"]
    progressed = [s for s in found if s["verb"]["display"]["en-US"] == "progressed"]
    shares = sorted(
        s["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"] for s in progressed
    )
    assert shares == [0.4, 1.0, 1.0, 1.0]
    lesson = one("completed", "lesson", lessons[0]["id"])
    assert lesson["object"]["definition"]["name"] == {"en": lessons[0]["title"]}
    parent = lesson["context"]["contextActivities"]["parent"][0]
    assert parent["id"] == f"{FRONTEND}/xapi/activities/course/{course_id}"
    assert one("completed", "course", course_id)["result"] == {"completion": True}
    one("attempted", "quiz", quiz.quiz["id"])
    passed = one("passed", "quiz", quiz.quiz["id"])
    assert passed["result"] == {"completion": True, "score": {"scaled": 1.0}, "success": True}
    assert passed["object"]["definition"]["name"] == {"en": "Checkpoint"}
    assert passed["context"]["contextActivities"]["parent"][0]["id"].endswith(f"/course/{course_id}")
    scored = one("scored", "assignment", facts["assignment"].assignment["id"])
    assert scored["result"]["score"] == {"scaled": 0.8}

    # Each statement's id is derived from its event's: the same event can only ever be one statement.
    async with api.container.sessions() as session:
        events = (await session.execute(select(OutboxEventRow.id))).scalars().all()
    assert {s["id"] for s in found} <= {str(statement_id(e)) for e in events}

    # A retry (the answer was lost, so the batch is sent again) stores no second copy.
    async with api.container.sessions() as session, session.begin():
        await session.execute(
            update(XAPI_STATEMENTS).values(status="pending", next_attempt_at=XAPI_STATEMENTS.c.created_at)
        )
    await drained(api)
    await _all_sent(api)
    again = [s for s in await asyncio.to_thread(lrs.statements) if s["actor"]["account"]["name"] == person.user["id"]]
    assert Counter(s["id"] for s in again) == Counter(s["id"] for s in found)


async def _all_sent(api: Api) -> None:
    for _ in range(200):
        await drained(api)
        async with api.container.engine.connect() as conn:
            statuses = set((await conn.execute(select(XAPI_STATEMENTS.c.status))).scalars())
        if statuses == {"sent"}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"statements not all sent: {statuses}")


async def test_an_lrs_that_is_down_gets_every_statement_when_it_is_back(make_api: MakeApiFn, lrs: RalphLrs) -> None:
    clock = FakeClock()
    down = f"http://127.0.0.1:{free_port()}/xAPI"  # nothing listens here
    api = await make_api(clock, **(lrs.settings() | {"LMS_XAPI_LRS_URL": down}))
    person = await api.register(email=unique_email("xapi-down"))
    room = await quiz_room(api, lessons=1)
    await enroll(api, person, room.room.course_id)
    xapi = api.container.xapi
    assert xapi is not None
    for _ in range(100):
        await drained(api)
        async with api.container.engine.connect() as conn:
            rows = (await conn.execute(select(XAPI_STATEMENTS.c.attempts, XAPI_STATEMENTS.c.last_error))).all()
        if rows and all(attempts == 1 for attempts, _ in rows):
            break
        await asyncio.sleep(0.05)
    assert rows and all(attempts == 1 and error for attempts, error in rows), rows
    # Back (the same LRS, now reachable): nothing is sent before the retry is due, then everything once.
    unreachable = xapi.lrs
    xapi.lrs = HttpxLearningRecordStore(lrs.url, username=USERNAME, password=PASSWORD)
    try:
        await drained(api)
        assert not [
            s for s in await asyncio.to_thread(lrs.statements) if s["actor"]["account"]["name"] == person.user["id"]
        ]
        clock.advance(seconds=6)  # past the 5 s (± 10 %) before the second attempt
        found = await statements_of(lrs, api, person, 1)
        assert [s["verb"]["display"]["en-US"] for s in found] == ["registered"]
    finally:
        assert isinstance(unreachable, HttpxLearningRecordStore)
        await unreachable.close()
    async with api.container.engine.connect() as conn:
        assert (await conn.execute(select(XAPI_STATEMENTS.c.attempts))).scalars().all() == [1]


async def test_without_an_lrs_no_learning_records_are_kept(api: Api) -> None:
    person = await api.register()
    room = await quiz_room(api, lessons=1)
    eid = (await enroll(api, person, room.room.course_id))["id"]
    await progress(api, person, eid, room.room.lessons[0]["id"], completion_percentage=10)
    async with api.container.sessions() as session:
        types = set((await session.execute(select(OutboxEventRow.type))).scalars())
        staged = (await session.execute(select(XAPI_STATEMENTS.c.id))).all()
    assert "lesson.progressed" not in types and not staged
    assert api.container.xapi is None
    assert uuid.UUID(person.user["id"])
