"""A test harness around one application: client, mailbox, and helpers for common steps."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.queue.saq_queue import SaqQueue, stop_worker
from domain.shared.clock import Clock
from lms.app import create_app
from lms.bootstrap import Container, build_container
from lms.settings import load_settings
from tests.support.lifespan import Lifespan
from tests.support.mailbox import Mailbox

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct-horse-42"
_counter = itertools.count()


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.com"


def unwrap(body: Any) -> Any:
    """The body without the optional success envelope."""
    if isinstance(body, dict) and {"success", "data", "message"} <= body.keys():
        return body["data"]
    return body


@dataclass
class Session:
    user: dict[str, Any]
    access: str
    refresh: str
    email: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Api:
    client: httpx.AsyncClient
    container: Container
    mailbox: Mailbox
    backend: str
    app: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def register(self, email: str | None = None, password: str = PASSWORD, **body: Any) -> Session:
        email = email or unique_email()
        r = await self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": body.pop("full_name", "Test User"), "password": password, **body},
        )
        assert r.status_code == 201, r.text
        data = unwrap(r.json())
        return Session(data["user"], data["tokens"]["access_token"], data["tokens"]["refresh_token"], email, password)

    async def login(self, email: str, password: str = PASSWORD) -> Session:
        r = await self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        data = unwrap(r.json())
        return Session(data["user"], data["tokens"]["access_token"], data["tokens"]["refresh_token"], email, password)

    async def admin(self) -> Session:
        email = unique_email("admin")
        await self.container.identity.accounts.create_admin(email, "Admin User", PASSWORD)
        return await self.login(email)

    async def me(self, session_or_token: Session | str) -> httpx.Response:
        token = session_or_token.access if isinstance(session_or_token, Session) else session_or_token
        return await self.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def app_env(data_dir: Path, database_url: str, redis_url: str | None, **overrides: str) -> dict[str, str]:
    env = {
        "LMS_ENVIRONMENT": "test",
        "LMS_SECRET_KEY": SECRET,
        "LMS_DATA_DIR": str(data_dir),
        "LMS_DATABASE_URL": database_url,
        "LMS_EMAIL_BACKEND": "file",
        "LMS_RATE_LIMIT_ENABLED": "false",
        "LMS_LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["LMS_REDIS_URL"] = redis_url
        env["LMS_QUEUE_URL"] = redis_url
    env.update(overrides)
    return env


@asynccontextmanager
async def running_api(env: dict[str, str], backend: str, clock: Clock | None = None) -> AsyncIterator[Api]:
    """An app on a real container; with a SAQ queue, a worker runs beside it as `lms worker` would."""
    settings = load_settings(env)
    container = build_container(settings, clock=clock)
    app = create_app(settings, container)
    worker_task: asyncio.Task[None] | None = None
    worker = None
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with Lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            if isinstance(container.queue, SaqQueue):
                worker = container.queue.worker(container.handlers)
                worker_task = asyncio.create_task(worker.start())
                if container.webhooks.enabled:
                    container.relay.start()  # as `lms worker` does
            yield Api(client=client, container=container, mailbox=Mailbox(settings.mail_dir), backend=backend, app=app)
            drain = getattr(container.queue, "drain", None)
            if drain is not None:
                await drain()
    finally:
        if worker is not None and worker_task is not None:
            await stop_worker(worker)
            worker_task.cancel()
        await container.close()
