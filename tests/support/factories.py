"""polyfactory factories for request bodies: valid by construction, unique where it matters."""

from __future__ import annotations

import itertools

from polyfactory.factories.msgspec_factory import MsgspecFactory

from adapters.http.identity.schemas import UserCreate
from domain.identity.model import Role

_seq = itertools.count()


class UserCreateFactory(MsgspecFactory[UserCreate]):
    __check_model__ = False

    @classmethod
    def email(cls) -> str:
        return f"person{next(_seq)}@example.com"

    @classmethod
    def full_name(cls) -> str:
        return cls.__faker__.name()[:60] or "Some Person"

    @classmethod
    def password(cls) -> str:
        return cls.__faker__.password(length=16)

    role = Role.STUDENT
