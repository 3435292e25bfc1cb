"""The CLI and real server processes (API §8.4, §8.5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.e2e.conftest import lms, lms_env, serving, start_worker, stop
from tests.support.databases import PostgresDatabases


def test_zero_configuration_serves_on_sqlite(tmp_path: Path) -> None:
    env = lms_env(tmp_path, LMS_ENVIRONMENT="development")
    del env["LMS_SECRET_KEY"]
    with serving(env) as base:
        assert httpx.get(f"{base}/").json() == {"message": "LMS Backend API"}
        r = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"email": "first@example.com", "full_name": "First", "password": "password-1"},
        )
        assert r.status_code == 201
        assert httpx.get(f"{base}/schema").status_code == 200
        assert httpx.get(f"{base}/schema/openapi.json").json()["openapi"].startswith("3.1")
    assert (tmp_path / "lms.db").exists()


def test_two_processes_share_sessions_revocations_and_limits(
    tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str
) -> None:
    database = asyncio.run(postgres_databases.create())
    env = lms_env(
        tmp_path,
        LMS_DATABASE_URL=database,
        LMS_REDIS_URL=redis_url,
        LMS_QUEUE_URL=redis_url,
        LMS_RATE_LIMIT_AUTH="4/60",
    )
    with serving(env) as one, serving(env) as two:
        r = httpx.post(
            f"{one}/api/v1/auth/register",
            json={"email": "shared@example.com", "full_name": "Shared", "password": "password-1"},
        )
        assert r.status_code == 201, r.text
        tokens = r.json()["tokens"]
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.get(f"{two}/api/v1/users/me", headers=headers).status_code == 200
        r = httpx.post(f"{one}/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers)
        assert r.status_code == 204
        r = httpx.get(f"{two}/api/v1/users/me", headers=headers)
        assert r.status_code == 401
        assert r.json()["detail"] == "Token has been revoked"
        statuses = [
            httpx.post(f"{base}/api/v1/auth/login", json={"email": "shared@example.com", "password": "x"}).status_code
            for base in (one, two, one, two, one)
        ]
        assert statuses == [401, 401, 401, 401, 429]


def test_two_processes_never_serve_stale_catalog_reads(
    tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str
) -> None:
    database = asyncio.run(postgres_databases.create())
    env = lms_env(tmp_path, LMS_DATABASE_URL=database, LMS_REDIS_URL=redis_url, LMS_QUEUE_URL=redis_url)
    assert lms("db", "upgrade", env=env).returncode == 0
    created = lms(
        "users", "create-admin", "--email", "owner@example.com", "--password-stdin", env=env, stdin="pass-word-1\n"
    )
    assert created.returncode == 0, created.stderr
    with serving(env) as one, serving(env) as two, httpx.Client() as client:
        r = client.post(f"{one}/api/v1/auth/login", json={"email": "owner@example.com", "password": "pass-word-1"})
        headers = {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}
        r = client.post(f"{one}/api/v1/courses", json={"title": "Across processes"}, headers=headers)
        course_id = r.json()["id"]
        assert client.post(f"{one}/api/v1/courses/{course_id}/publish", headers=headers).status_code == 200
        for n in range(1, 6):
            for base in (one, two):  # both processes have read (and cached) the current state
                assert client.get(f"{base}/api/v1/courses/{course_id}").status_code == 200
                assert client.get(f"{base}/api/v1/courses").status_code == 200
            writer, reader = (one, two) if n % 2 else (two, one)
            r = client.patch(f"{writer}/api/v1/courses/{course_id}", json={"title": f"Version {n}"}, headers=headers)
            assert r.status_code == 200
            assert client.get(f"{reader}/api/v1/courses/{course_id}").json()["title"] == f"Version {n}"
            assert client.get(f"{reader}/api/v1/courses").json()["items"][0]["title"] == f"Version {n}"


def test_cli_commands(tmp_path: Path) -> None:
    env = lms_env(tmp_path)
    first = lms("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    again = lms("db", "upgrade", env=env)
    assert again.returncode == 0
    created = lms(
        "users", "create-admin", "--email", "Root@Example.com", "--password-stdin", env=env, stdin="admin-pass-1\n"
    )
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.strip()) == 36
    dup = lms(
        "users", "create-admin", "--email", "root@example.com", "--password-stdin", env=env, stdin="admin-pass-1\n"
    )
    assert dup.returncode == 1
    assert "Email is already registered" in dup.stderr
    short = lms("users", "create-admin", "--email", "x@example.com", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 2
    worker = lms("worker", env=env)
    assert worker.returncode == 2
    assert "LMS_QUEUE_URL is not set; jobs run inside the API process" in worker.stderr
    bad = lms("db", "upgrade", env={**env, "LMS_RATE_LIMIT_GLOBAL": "lots"})
    assert bad.returncode == 2
    assert "LMS_RATE_LIMIT_GLOBAL" in bad.stderr
    many = lms("run", "--workers", "2", env=env)
    assert many.returncode == 2
    assert "LMS_REDIS_URL" in many.stderr
    usage = lms("frobnicate", env=env)
    assert usage.returncode == 2
    with serving(env) as base:
        r = httpx.post(f"{base}/api/v1/auth/login", json={"email": "root@example.com", "password": "admin-pass-1"})
        assert r.status_code == 200
        assert r.json()["user"]["role"] == "admin"
        assert r.json()["user"]["email_verified_at"] is not None


def test_production_refuses_pending_migrations(tmp_path: Path) -> None:
    env = lms_env(tmp_path, LMS_ENVIRONMENT="production", LMS_TRUSTED_HOSTS="localhost")
    refused = lms("run", env=env)
    assert refused.returncode == 2
    assert "lms db upgrade" in refused.stderr
    no_secret = lms("run", env={**env, "LMS_SECRET_KEY": ""})
    assert no_secret.returncode == 2
    assert "LMS_SECRET_KEY must be set to at least 32 bytes outside development" in no_secret.stderr


def test_worker_delivers_mail(tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str) -> None:
    import time

    database = asyncio.run(postgres_databases.create())
    env = lms_env(tmp_path, LMS_DATABASE_URL=database, LMS_REDIS_URL=redis_url, LMS_QUEUE_URL=redis_url)
    worker, _ = start_worker(env)
    try:
        with serving(env) as base:
            r = httpx.post(
                f"{base}/api/v1/auth/register",
                json={"email": "mail@example.com", "full_name": "Mail", "password": "password-1"},
            )
            assert r.status_code == 201
            deadline = time.monotonic() + 30
            while len(list((tmp_path / "mail").glob("*.eml"))) < 2:
                assert time.monotonic() < deadline, "the worker delivered no mail"
                time.sleep(0.1)
        worker.terminate()
        assert worker.wait(timeout=20) == 0
    finally:
        stop(worker)
