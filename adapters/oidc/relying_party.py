"""One OpenID Provider, as a relying party sees it (API §10.3): its discovery document and signing
keys, cached (the keys fetched again when a token names one not seen yet, which is how a provider
rotates them), the authorization URL with PKCE `S256`, state and nonce, and the code exchange whose
ID token is verified with joserfc (profile claims the token leaves out come from userinfo)."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.identity.ports import ExternalIdentity, SignInFailed

log = logging.getLogger("lms.oidc")

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
DISCOVERY_TTL = 3600.0  # seconds a discovery document is kept
KEYS_MIN_REFRESH = 10.0  # an unknown `kid` fetches the keys again at most this often
LEEWAY = 60  # seconds of clock difference allowed on `exp` and `iat`


class OidcProvider:
    def __init__(
        self,
        name: str,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scopes: str = "openid email profile",
        display_name: str | None = None,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.display_name = display_name or name
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = scopes
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._discovery: dict[str, Any] | None = None
        self._discovered_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    async def close(self) -> None:
        await self._http.aclose()

    async def _document(self) -> dict[str, Any]:
        if self._discovery is None or time.monotonic() - self._discovered_at > DISCOVERY_TTL:
            try:
                r = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
                r.raise_for_status()
                document = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("discovery of %s failed: %s", self.name, exc)
                raise SignInFailed("provider_unavailable") from None
            if document.get("issuer", "").rstrip("/") != self.issuer:
                raise SignInFailed("provider_misconfigured")
            self._discovery, self._discovered_at = document, time.monotonic()
        return self._discovery

    async def _key_set(self, kid: str | None) -> KeySet:
        known = self._keys is not None and (kid is None or any(k.kid == kid for k in self._keys.keys))
        if not known and (self._keys is None or time.monotonic() - self._keys_at > KEYS_MIN_REFRESH):
            document = await self._document()
            try:
                r = await self._http.get(document["jwks_uri"])
                r.raise_for_status()
                self._keys, self._keys_at = KeySet.import_key_set(r.json()), time.monotonic()
            except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
                log.warning("keys of %s could not be read: %s", self.name, exc)
                raise SignInFailed("provider_unavailable") from None
        if self._keys is None:
            raise SignInFailed("provider_unavailable")
        return self._keys

    async def authorization_url(self, redirect_uri: str, *, state: str, nonce: str, code_challenge: str) -> str:
        document = await self._document()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{document['authorization_endpoint']}?{urlencode(query)}"

    async def redeem(self, code: str, redirect_uri: str, *, code_verifier: str, nonce: str) -> ExternalIdentity:
        document = await self._document()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        try:
            r = await self._http.post(document["token_endpoint"], data=form, auth=(self.client_id, self._secret))
        except httpx.HTTPError as exc:
            log.warning("code exchange with %s failed: %s", self.name, exc)
            raise SignInFailed("provider_unavailable") from None
        if r.status_code != 200:
            raise SignInFailed("code_rejected")
        answer = r.json()
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("invalid_token")
        claims = await self._verified(id_token, nonce)
        if "email" not in claims and isinstance(answer.get("access_token"), str):
            claims = {**await self._user_info(document, answer["access_token"], claims["sub"]), **claims}
        return ExternalIdentity(
            provider=self.name,
            subject=str(claims["sub"]),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )

    async def _user_info(self, document: dict[str, Any], access_token: str, subject: object) -> dict[str, Any]:
        """The profile claims a provider keeps out of the ID token (OpenID Connect Core §5.3), only
        when they speak of the same subject; nothing when there is no such endpoint."""
        endpoint = document.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        try:
            r = await self._http.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
            r.raise_for_status()
            info = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("userinfo of %s could not be read: %s", self.name, exc)
            raise SignInFailed("provider_unavailable") from None
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise SignInFailed("invalid_token")
        return {name: info[name] for name in ("email", "email_verified", "name") if name in info}

    async def _verified(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = await self._key_set(_kid_of(id_token))
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            log.warning("an ID token from %s was refused: %s", self.name, exc)
            raise SignInFailed("invalid_token") from None
        if token.claims["iat"] > time.time() + LEEWAY:
            raise SignInFailed("invalid_token")
        audiences = token.claims["aud"] if isinstance(token.claims["aud"], list) else [token.claims["aud"]]
        if len(audiences) > 1 and token.claims.get("azp") != self.client_id:
            raise SignInFailed("invalid_token")
        return dict(token.claims)


def _kid_of(token: str) -> str | None:
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "=="))
    except (ValueError, IndexError):
        raise SignInFailed("invalid_token") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
