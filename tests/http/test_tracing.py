"""With export on, each request is a span named by its route template, and SQL is traced."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from logfire.testing import CaptureLogfire

import lms.app
from lms.bootstrap import build_container
from lms.settings import load_settings
from tests.support.api import app_env
from tests.support.databases import SqliteDatabases
from tests.support.lifespan import Lifespan


async def test_request_spans(
    capfire: CaptureLogfire, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_databases: SqliteDatabases
) -> None:
    monkeypatch.setattr(lms.app, "configure_telemetry", lambda _settings: True)
    settings = load_settings(app_env(tmp_path, await sqlite_databases.create(), None))
    container = build_container(settings)
    app = lms.app.create_app(settings, container)
    transport = httpx.ASGITransport(app=app)
    async with Lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        r = await client.get("/api/v1/users/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 401
        r = await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever"})
        assert r.status_code == 401
    await container.close()
    spans = capfire.exporter.exported_spans_as_dict()
    routes = {(s["attributes"].get("http.route"), s["attributes"].get("http.status_code")) for s in spans}
    assert ("/api/v1/users/{user_id}", 401) in routes
    assert ("/api/v1/auth/login", 401) in routes
    assert any("SELECT" in str(s["attributes"].get("db.statement", "")) for s in spans)
