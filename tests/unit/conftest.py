"""Fixtures for use-case tests: the identity use cases on in-memory fakes and a controllable clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.kv.memory import MemoryKeyValue
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.jwt_codec import JwtCodec
from adapters.security.totp import PyOtpTotp
from domain.identity.blacklist import TokenBlacklist
from domain.identity.families import Identity
from domain.identity.parts import IdentityParts
from domain.identity.policy import IdentityPolicy
from domain.identity.tokens import Tokens
from tests.unit.fakes import FakeClock, FakeHasher, FakeUnitOfWork, FakeUsers, NoApiKeys, RecordingQueue, Store

SECRET = "unit-test-secret-key-0123456789abcdef"


class World:
    def __init__(self, policy: IdentityPolicy) -> None:
        self.store = Store()
        self.clock = FakeClock()
        self.queue = RecordingQueue()
        self.kv = MemoryKeyValue()
        self.totp = PyOtpTotp()
        self.identity = Identity.of(
            IdentityParts(
                uow=lambda: FakeUnitOfWork(self.store),
                users=FakeUsers(self.store),
                hasher=FakeHasher(),
                tokens=Tokens(JwtCodec(SECRET)),
                totp=self.totp,
                kv=self.kv,
                blacklist=TokenBlacklist(self.kv, None),
                queue=self.queue,
                clock=self.clock,
                common_passwords=ZxcvbnCommonPasswords(),
                policy=policy,
            ),
            NoApiKeys(),
        )


@pytest.fixture
def make_world() -> Callable[..., World]:
    def make(**policy: object) -> World:
        return World(IdentityPolicy(**policy))  # type: ignore[arg-type]

    return make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
