"""The identity use-case families, built together on one set of ports."""

from __future__ import annotations

from dataclasses import dataclass

from domain.identity.accounts import Accounts
from domain.identity.administration import UserAdministration
from domain.identity.api_keys import ApiKeys
from domain.identity.browser_sessions import BrowserSessions
from domain.identity.lockout import Lockout
from domain.identity.mfa import Mfa
from domain.identity.parts import IdentityParts
from domain.identity.ports import ApiKeyLookup
from domain.identity.sign_in import SignIn


@dataclass(frozen=True, slots=True)
class Identity:
    parts: IdentityParts
    sign_in: SignIn
    accounts: Accounts
    mfa: Mfa
    admin: UserAdministration
    lockout: Lockout
    browser: BrowserSessions
    api_keys: ApiKeys

    @classmethod
    def of(cls, parts: IdentityParts, keys: ApiKeyLookup) -> Identity:
        lockout = Lockout(parts)
        sign_in = SignIn(parts, lockout)
        return cls(
            parts=parts,
            sign_in=sign_in,
            accounts=Accounts(parts, lockout),
            mfa=Mfa(parts, lockout),
            admin=UserAdministration(parts, lockout),
            lockout=lockout,
            browser=BrowserSessions(sign_in),
            api_keys=ApiKeys(parts, keys),
        )
