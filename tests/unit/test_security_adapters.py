"""The security adapters: argon2id hashing, pinned-algorithm JWTs, RFC 6238 TOTP."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import jwt
import pyotp
import pytest

from adapters.security.jwt_codec import JwtCodec, key_id
from adapters.security.passwords import Argon2Hasher
from adapters.security.totp import PyOtpTotp
from domain.identity.ports import TokenExpired, TokenInvalid

SECRET = "s" * 64


async def test_argon2id_with_owasp_parameters() -> None:
    hasher = Argon2Hasher()
    digest = await hasher.hash("pässword-1")
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify(digest, "pässword-1")
    assert not await hasher.verify(digest, "password-1")
    assert not await hasher.verify("not-a-hash", "password-1")


def test_jwt_round_trip_and_checks() -> None:
    codec = JwtCodec(SECRET)
    now = int(time.time())
    token = codec.encode({"sub": "u", "jti": "j", "typ": "access", "iat": now, "exp": now + 60})
    claims = codec.decode(token)
    assert claims["iss"] == "lms"
    assert claims["aud"] == "lms-api"
    claims["sub"] = "mutated"
    assert codec.decode(token)["sub"] == "u"  # the memoised claims are not shared
    expired = codec.encode({"sub": "u", "jti": "j", "typ": "access", "iat": now - 120, "exp": now - 60})
    with pytest.raises(TokenExpired):
        codec.decode(expired)
    assert codec.decode(expired, verify_exp=False)["sub"] == "u"
    other = JwtCodec("o" * 40).encode({"sub": "u", "jti": "j", "iat": now, "exp": now + 60})
    for bad in (other, token + "x", "a.b.c", ""):
        with pytest.raises(TokenInvalid):
            codec.decode(bad)
    hs512 = jwt.encode({"sub": "u", "iat": now, "exp": now + 60, "iss": "lms", "aud": "lms-api"}, SECRET, "HS512")
    with pytest.raises(TokenInvalid):
        codec.decode(hs512)
    no_aud = jwt.encode({"sub": "u", "iat": now, "exp": now + 60, "iss": "lms"}, SECRET, "HS256")
    with pytest.raises(TokenInvalid):
        codec.decode(no_aud)


def test_jwt_keys_rotate_by_kid() -> None:
    now = int(time.time())
    claims = {"sub": "u", "jti": "j", "typ": "access", "iat": now, "exp": now + 60}
    old, new = "o" * 40, "n" * 40
    before = JwtCodec(old).encode(claims)
    assert jwt.get_unverified_header(before)["kid"] == key_id(old) != old
    rotating = JwtCodec(new, previous=[old])
    assert rotating.decode(before)["sub"] == "u"  # signed with the previous key: still valid
    after = rotating.encode(claims)
    assert jwt.get_unverified_header(after)["kid"] == key_id(new)  # the current key signs
    done = JwtCodec(new)  # the old key removed
    assert done.decode(after)["sub"] == "u"
    with pytest.raises(TokenInvalid):
        done.decode(before)
    # A token with no `kid` (minted before keys had ids) is tried with every key.
    legacy = jwt.encode({**claims, "iss": "lms", "aud": "lms-api"}, old, "HS256")
    assert rotating.decode(legacy)["sub"] == "u"
    with pytest.raises(TokenInvalid):
        done.decode(legacy)
    # A `kid` naming an accepted key does not make another key's signature pass.
    forged = jwt.encode({**claims, "iss": "lms", "aud": "lms-api"}, "x" * 40, "HS256", headers={"kid": key_id(new)})
    with pytest.raises(TokenInvalid):
        rotating.decode(forged)
    valid = rotating.encode(claims).split(".")
    odd_header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":["a"]}').rstrip(b"=").decode()
    with pytest.raises(TokenInvalid):
        rotating.decode(".".join([odd_header, *valid[1:]]))


def test_totp_window_and_uri() -> None:
    totp = PyOtpTotp()
    secret = totp.new_secret()
    assert len(secret) == 32
    at = datetime(2026, 1, 1, 12, 0, 15, tzinfo=UTC)
    step = int(at.timestamp()) // 30
    reference = pyotp.TOTP(secret)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, reference.at((step + offset) * 30), at) == step + offset
    assert totp.matching_step(secret, reference.at((step + 2) * 30), at) is None
    assert totp.matching_step(secret, "12345", at) is None
    assert totp.matching_step(secret, "abcdef", at) is None
    uri = totp.provisioning_uri(secret, "ada+x@example.com", "My LMS")
    assert uri == (
        f"otpauth://totp/My%20LMS:ada%2Bx%40example.com?secret={secret}&issuer=My%20LMS"
        "&algorithm=SHA1&digits=6&period=30"
    )
