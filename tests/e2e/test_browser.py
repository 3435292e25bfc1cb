"""Cookie sessions as a browser uses them (API §10.2): a real headless Chromium, a page served from
another origin of the same site that signs in with cookies and calls the API, and a page of another
site that tries a cross-site form post. Chromium comes from the system (`just system-deps`)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import lms_env, start_api, stop
from tests.support.servers import free_port

PASSWORD = "correct-horse-42"

# The front end's script: sign in with cookies, read the CSRF cookie (cookies are per host, not
# per port, so this same-site page sees the API's), then call the API with and without it.
APP = """<!doctype html><meta charset="utf-8"><title>front end</title><script>
async function call(method, path, body, csrf) {
  const headers = {"Content-Type": "application/json"};
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const r = await fetch(API + path, {method, credentials: "include", headers, body: body && JSON.stringify(body)});
  return {status: r.status, body: await r.json().catch(() => null)};
}
function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? found.slice(name.length + 1) : null;
}
async function journey(email, password) {
  const out = {};
  out.login = await call("POST", "/api/v1/auth/login-cookie", {email, password});
  out.access_visible = cookie("lms_access") !== null;  // HttpOnly: never visible to the script
  out.me = await call("GET", "/api/v1/users/me");
  out.without_csrf = await call("PATCH", "/api/v1/users/me", {full_name: "No token"});
  out.with_csrf = await call("PATCH", "/api/v1/users/me", {full_name: "From the browser"}, cookie("lms_csrf"));
  out.info = await call("GET", "/api/v1/auth/token-info");
  return out;
}
</script>"""

# Another site's page: a plain form that posts to the API, as a CSRF attack would.
ATTACK = """<!doctype html><meta charset="utf-8"><title>attack</title>
<form id="f" method="POST" action="{api}/api/v1/auth/logout-cookie" enctype="text/plain">
<input name="x" value="y"></form>"""


@contextmanager
def static_site(port: int, pages: dict[str, str]) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: run `just system-deps` (Debian: apt-get install chromium)")
    return found


def test_a_browser_signs_in_with_cookies_and_unsafe_calls_need_the_csrf_header(tmp_path: Path) -> None:
    page_port, api_port = free_port(), free_port()
    front = f"http://localhost:{page_port}"
    env = lms_env(tmp_path, LMS_CORS_ORIGINS=front, LMS_COOKIE_SECURE="false")
    proc, local = start_api(env, port=api_port)
    try:
        api = f"http://localhost:{api_port}"
        email = "browser@example.com"
        body = {"email": email, "full_name": "Browser User", "password": PASSWORD}
        assert httpx.post(f"{local}/api/v1/auth/register", json=body).status_code == 201
        pages = {"/": APP.replace("<script>", f"<script>const API = {api!r};", 1), "/attack": ATTACK.format(api=api)}
        with static_site(page_port, pages), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"], headless=True)
            try:
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{front}/")
                out = page.evaluate("([e, p]) => journey(e, p)", [email, PASSWORD])
                assert out["login"]["status"] == 200 and out["login"]["body"]["user"]["email"] == email
                assert out["access_visible"] is False
                assert out["me"]["status"] == 200 and out["me"]["body"]["email"] == email
                assert out["without_csrf"]["status"] == 403
                assert out["without_csrf"]["body"]["detail"] == "CSRF token missing or invalid"
                assert out["with_csrf"]["status"] == 200
                assert out["with_csrf"]["body"]["full_name"] == "From the browser"
                assert out["info"]["body"]["auth"] == "cookie"

                # Another site posts a form to the API: the Lax cookies stay home, nothing happens.
                attack = context.new_page()
                attack.goto(f"http://127.0.0.1:{page_port}/attack")
                with attack.expect_navigation():
                    attack.evaluate("document.getElementById('f').submit()")
                assert "Not authenticated" in attack.content()
                still = page.evaluate("() => call('GET', '/api/v1/users/me')")
                assert still["status"] == 200  # the session survived the attack
            finally:
                browser.close()
    finally:
        stop(proc, timeout=15)
