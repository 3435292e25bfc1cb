"""Stateful fuzzing (schemathesis) of a real `lms run` on PostgreSQL and Redis: sequences of calls
follow the document's links (create → read → change → delete), signed in as each role. No answer
may be a server error, use a status, header or content type the document does not declare, or
break its schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky

from tests.e2e.conftest import PASSWORD, Client, admin_of, crash, lms_env, start_api
from tests.http.test_fuzz import fresh_idempotency_key, without_nul
from tests.support.databases import PostgresDatabases
from tests.support.servers import RedisServer

# Calls that end or weaken the run's own session would leave the rest of a sequence answering 401
# or 403, testing nothing; the stateless fuzzer covers them.
SESSION_ENDING = ["logout", "change_my_password", "update_user", "disable_mfa", "update_my_profile"]
# What every answer in a sequence must hold to, whatever the data (which the stateless fuzzer also
# checks for acceptance and rejection): the resources a create answers with stay readable until
# they are deleted, and are gone after.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.use_after_free,
    schemathesis.checks.ensure_resource_availability,
]
# Per role: bounded so the whole test command stays within its budget.
BOUNDS = settings(
    phases=[Phase.generate],  # no shrinking: the server keeps what earlier sequences made
    max_examples=60,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("stateful")
    redis = RedisServer.start()
    database = asyncio.run(postgres_databases.create())
    env = lms_env(root, LMS_DATABASE_URL=database, LMS_REDIS_URL=redis.url, LMS_RATE_LIMIT_ENABLED="false")
    api, base = start_api(env)
    try:
        yield env, base
    finally:
        crash(api)
        redis.stop()


def tokens(env: dict[str, str], base: str) -> dict[str, dict[str, str]]:
    """A token per role, and something for sequences to start from: a published course with a
    lesson and a published quiz that the student is enrolled in (lists lead to it by their links)."""
    client = Client(base)
    admin = admin_of(client, env, "stateful-admin@example.com")
    body = {"email": "stateful-teacher@example.com", "full_name": "Teacher", "password": PASSWORD}
    client.call("POST", "/users", admin, 201, **body, role="instructor")
    teacher = client.login("stateful-teacher@example.com")
    student = client.student("stateful-student@example.com")
    client.quiz_course(teacher, student, "Stateful start")
    return {"admin": admin, "instructor": teacher, "student": student}


@pytest.mark.parametrize("role", ["admin", "instructor", "student"])
def test_linked_sequences_never_break_the_contract(served: Any, role: str) -> None:
    env, base = served
    headers = _tokens(env, base)[role]
    schema = without_nul(schemathesis.openapi.from_url(f"{base}/schema/openapi.json")).exclude(
        operation_id=SESSION_ENDING
    )

    class Journey(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            fresh_idempotency_key(case)
            case.headers = {**(case.headers or {}), **headers}  # the role's token, not a generated one
            return {}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except Exception as failure:
                failures.append(failure)
                raise

    failures: list[Exception] = []
    try:
        Journey.run(settings=BOUNDS)
    except Flaky:
        # Replaying a sequence against a server that kept the first run's data may draw differently;
        # that is no failure of the API, but a check that failed on the way is.
        if failures:
            raise failures[0] from None


_cache: dict[str, dict[str, dict[str, str]]] = {}


def _tokens(env: dict[str, str], base: str) -> dict[str, dict[str, str]]:
    if base not in _cache:
        _cache[base] = tokens(env, base)
    return _cache[base]
