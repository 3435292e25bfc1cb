"""Real `lms` processes against the test PostgreSQL and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.servers import PostgresServer, RedisServer, free_port, wait_until_up

SECRET = "e2e-secret-key-that-is-long-enough-0123456789"


def lms_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
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


def lms(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lms.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


@contextmanager
def serving(env: dict[str, str], *extra: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "run", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/v1/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`lms worker`, once it says it has started."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace")
    assert "worker started" in line, line + proc.stdout.read().decode(errors="replace")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe from filling
    return proc


@contextmanager
def working(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_worker(env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


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
