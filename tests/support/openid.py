"""A real OpenID Provider for the tests: the certified `oidc-provider` from the npm registry
(`tests/support/openid_provider/`), with its development login and consent pages, which
`sign_in` fills in over HTTP exactly as a browser would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.npm import NPM_HINT, npm_packages
from tests.support.servers import ServerMissing, _wait_for_port, free_port

FOLDER = Path(__file__).parent / "openid_provider"


def signing_keys(kid: str) -> dict[str, Any]:
    """A private JWKS of one fresh RS256 key named `kid`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {name: value for name, value in RSAAlgorithm.to_jwk(key, as_dict=True).items() if name != "key_ops"}
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}


@dataclass
class OpenIdProvider:
    clients: list[dict[str, Any]]
    accounts: dict[str, dict[str, Any]]
    jwks: dict[str, Any] = field(default_factory=lambda: signing_keys("first"))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lms-oidc-")))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OpenIdProvider:
        if shutil.which("node") is None:
            raise ServerMissing(NPM_HINT)
        modules = npm_packages(FOLDER)
        (self.root / "node_modules").unlink(missing_ok=True)
        (self.root / "node_modules").symlink_to(modules)
        shutil.copy(FOLDER / "provider.mjs", self.root / "provider.mjs")
        shutil.copy(FOLDER / "package.json", self.root / "package.json")
        env = {
            **os.environ,  # the run's mark included
            "PORT": str(self.port),
            "CLIENTS": json.dumps(self.clients),
            "ACCOUNTS": json.dumps(self.accounts),
            "JWKS": json.dumps(self.jwks),
        }
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", "provider.mjs"],
            cwd=self.root,
            env=env,
            stdin=subprocess.PIPE,  # closed when the suite dies: the provider exits with it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.process, "oidc-provider")
        return self

    def rotate(self, kid: str) -> None:
        """Restart with a new signing key (same issuer): tokens signed before use the old one."""
        self.stop(keep=True)
        self.jwks = signing_keys(kid)
        self.start()

    def stop(self, *, keep: bool = False) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def sign_in(self, authorize_url: str, login: str, client: httpx.Client | None = None) -> str:
        """Follow an authorization URL through the login and consent pages as `login`; the
        location the provider finally redirects to (the relying party's callback)."""
        browser = client or httpx.Client()
        location = authorize_url
        for _ in range(12):
            r = browser.get(httpx.URL(self.issuer).join(location))
            if r.status_code in (302, 303):
                location = r.headers["location"]
                if not location.startswith((self.issuer, "/")):
                    return location
                continue
            assert r.status_code == 200, r.text
            action = r.text.split('action="', 1)[1].split('"', 1)[0]
            prompt = "login" if 'name="login"' in r.text else "consent"
            form = {"prompt": prompt, "login": login, "password": "any"} if prompt == "login" else {"prompt": prompt}
            r = browser.post(action, data=form)
            assert r.status_code in (302, 303), r.text
            location = r.headers["location"]
            if not location.startswith((self.issuer, "/")):
                return location
        raise AssertionError("the provider never redirected back")
