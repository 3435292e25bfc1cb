"""The relying party against a real OpenID Provider (`oidc-provider` from the npm registry, driven
through its login and consent pages as a browser would): the code flow with PKCE, the ID token's
checks, and key rotation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.oidc.relying_party import OidcProvider
from domain.identity.ports import SignInFailed
from tests.support.openid import OpenIdProvider

CALLBACK = "http://127.0.0.1:9/api/v1/auth/sso/school/callback"
ACCOUNTS = {
    "alice": {"email": "alice@school.example", "email_verified": True, "name": "Alice Liddell"},
    "bob": {"email": "bob@school.example", "email_verified": False},
}


@pytest.fixture
def provider() -> Iterator[OpenIdProvider]:
    clients = [
        {"client_id": "lms", "client_secret": "lms-secret", "redirect_uris": [CALLBACK]},
        {"client_id": "other", "client_secret": "other-secret", "redirect_uris": [CALLBACK]},
    ]
    server = OpenIdProvider(clients=clients, accounts=ACCOUNTS).start()
    yield server
    server.stop()


@pytest.fixture
async def party(provider: OpenIdProvider) -> AsyncIterator[OidcProvider]:
    rp = OidcProvider("school", issuer=provider.issuer, client_id="lms", client_secret="lms-secret")
    yield rp
    await rp.close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def code_for(provider: OpenIdProvider, party: OidcProvider, login: str, nonce: str, challenge: str) -> str:
    url = await party.authorization_url(CALLBACK, state="the-state", nonce=nonce, code_challenge=challenge)
    back = httpx.URL(provider.sign_in(url, login))
    assert str(back).startswith(CALLBACK) and back.params["state"] == "the-state"
    return back.params["code"]


async def test_the_code_flow_yields_the_verified_identity(provider: OpenIdProvider, party: OidcProvider) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, party, "alice", "n-1", challenge)
    who = await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="n-1")
    assert (who.provider, who.subject, who.email, who.email_verified, who.name) == (
        "school", "alice", "alice@school.example", True, "Alice Liddell"
    )  # fmt: skip
    verifier, challenge = pkce()
    code = await code_for(provider, party, "bob", "n-2", challenge)
    bob = await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="n-2")
    assert (bob.subject, bob.email_verified, bob.name) == ("bob", False, None)


async def test_a_wrong_nonce_a_wrong_verifier_or_a_reused_code_fail(
    provider: OpenIdProvider, party: OidcProvider
) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, party, "alice", "right", challenge)
    with pytest.raises(SignInFailed, match="invalid_token"):
        await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="wrong")
    with pytest.raises(SignInFailed, match="code_rejected"):  # a code works once
        await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="right")
    verifier, challenge = pkce()
    code = await code_for(provider, party, "alice", "n", challenge)
    with pytest.raises(SignInFailed, match="code_rejected"):
        await party.redeem(code, CALLBACK, code_verifier=pkce()[0], nonce="n")


async def test_a_code_for_another_client_is_refused(provider: OpenIdProvider, party: OidcProvider) -> None:
    other = OidcProvider("school", issuer=provider.issuer, client_id="other", client_secret="other-secret")
    verifier, challenge = pkce()
    code = await code_for(provider, other, "alice", "n", challenge)
    with pytest.raises(SignInFailed, match="code_rejected"):
        await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="n")
    await other.close()


async def test_rotated_keys_are_fetched_again(provider: OpenIdProvider, party: OidcProvider) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, party, "alice", "n", challenge)
    assert (await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="n")).subject == "alice"
    provider.rotate("second")  # the keys the party cached no longer sign anything
    verifier, challenge = pkce()
    code = await code_for(provider, party, "alice", "n", challenge)
    party._keys_at = 0.0  # the refresh floor (10 s between fetches) is not what is tested here
    assert (await party.redeem(code, CALLBACK, code_verifier=verifier, nonce="n")).subject == "alice"


async def test_an_unreachable_provider_is_a_failed_sign_in() -> None:
    party = OidcProvider("gone", issuer="http://127.0.0.1:9", client_id="lms", client_secret="x")
    with pytest.raises(SignInFailed, match="provider_unavailable"):
        await party.authorization_url(CALLBACK, state="s", nonce="n", code_challenge="c")
    await party.close()
