"""Real `lms` processes against the test PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.servers import PostgresServer, RedisServer, free_port, wait_until_up

SECRET = "e2e-secret-key-that-is-long-enough-0123456789"
PASSWORD = "password-1"


def lms_env(tmp: Path, **extra: str) -> dict[str, str]:
    # The suite's own LMS_TEST_* variables stay: they mark every process it starts (see conftest).
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_") or k.startswith("LMS_TEST_")}
    env.update(
        {
            "LMS_ENVIRONMENT": "test",
            "LMS_SECRET_KEY": SECRET,
            "LMS_DATA_DIR": str(tmp),
            "LMS_LOG_LEVEL": "WARNING",
            "LMS_EMAIL_BACKEND": "file",
        }
    )
    env.update(extra)
    return env


def production_env(tmp: Path, database: str, redis: str, **extra: str) -> dict[str, str]:
    """`lms_env` in production, on PostgreSQL and Redis (the queue too), for requests to 127.0.0.1."""
    return lms_env(
        tmp,
        LMS_ENVIRONMENT="production",
        LMS_TRUSTED_HOSTS="127.0.0.1,localhost",
        LMS_DATABASE_URL=database,
        LMS_REDIS_URL=redis,
        LMS_QUEUE_URL=redis,
        **extra,
    )


def lms(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lms.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def start_api(
    env: dict[str, str], *extra: str, port: int | None = None, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`lms run`, once it answers its health check; its base URL. Its output goes to `log` when
    given (to read once it stopped), else to a pipe."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "run", "--port", str(port), *extra],
        env=env,
        stdout=log.open("wb") if log is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # one process group with its granian workers, for `crash`
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/api/v1/health", proc)
    return proc, base


def crash(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the server and its workers at once, as a machine losing power: nothing is
    flushed, no request finishes."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM to the process, then SIGKILL to its whole group (its own session: it and every
    process it started) if it has not exited in time, and to whatever of the group is left."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@contextmanager
def serving(env: dict[str, str], *extra: str) -> Iterator[str]:
    proc, base = start_api(env, *extra)
    try:
        yield base
    finally:
        stop(proc, timeout=15)


def start_worker(
    env: dict[str, str], *, http_port: int | None = None, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`lms worker`, once its health endpoint answers; the base URL of that endpoint. Its output
    goes to `log` when given, else nowhere."""
    port = http_port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "worker", "--http-port", str(port)],
        env=env,
        stdout=log.open("wb") if log is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so that `stop` leaves nothing behind
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", proc)
    if proc.stdout is not None:
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe from filling
    return proc, base


@contextmanager
def working(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc, _ = start_worker(env)
    try:
        yield proc
    finally:
        stop(proc)


def wait_for(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.01)


class Client:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)

    def login(self, email: str) -> dict[str, str]:
        r = self.http.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}

    def student(self, email: str) -> dict[str, str]:
        """Registers, then signs in."""
        body = {"email": email, "full_name": "Stu Dent", "password": PASSWORD}
        r = self.http.post("/auth/register", json=body)
        assert r.status_code == 201, r.text
        return self.login(email)

    def call(self, method: str, path: str, headers: dict[str, str], status: int, **body: object) -> dict[str, object]:
        r = self.http.request(method, path, json=body or None, headers=headers)
        assert r.status_code == status, r.text
        return dict(r.json())

    def published_course(self, admin: dict[str, str], title: str, *, publish: bool = True) -> tuple[str, str]:
        """A course with one text lesson (published unless asked not to); its id and the lesson's."""
        course = self.call("POST", "/courses", admin, 201, title=title)
        lesson = self.call(
            "POST", f"/courses/{course['id']}/lessons", admin, 201, title="Only lesson", lesson_type="text"
        )
        if publish:
            self.call("POST", f"/courses/{course['id']}/publish", admin, 200)
        return str(course["id"]), str(lesson["id"])

    def quiz_course(self, owner: dict[str, str], student: dict[str, str], title: str) -> tuple[str, str, str]:
        """A published course whose one lesson has a published one-question quiz (true/false,
        "true"), with `student` enrolled: the course's, quiz's and question's ids."""
        course_id, lesson_id = self.published_course(owner, title, publish=False)
        quiz = self.call("POST", f"/courses/{course_id}/quizzes", owner, 201, lesson_id=lesson_id, title="Check")
        question = self.call(
            "POST", f"/courses/{course_id}/quizzes/{quiz['id']}/questions", owner, 201,
            question_text="HTTP is stateless", question_type="true_false", correct_answer="true",
        )  # fmt: skip
        self.call("POST", f"/courses/{course_id}/quizzes/{quiz['id']}/publish", owner, 200)
        self.call("POST", f"/courses/{course_id}/publish", owner, 200)
        self.call("POST", "/enrollments", student, 201, course_id=course_id)
        return course_id, str(quiz["id"]), str(question["id"])


def admin_of(client: Client, env: dict[str, str], email: str) -> dict[str, str]:
    created = lms("users", "create-admin", "--email", email, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    return client.login(email)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own: to be killed, or to keep a load's rate-limit counts away from
    other tests' servers."""
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of the test's own, to be stopped and started again under load."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
