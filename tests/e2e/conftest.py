"""Real `lms` processes against the test PostgreSQL and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.servers import free_port

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
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"lms run exited with {proc.returncode}: {out}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("lms run did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
