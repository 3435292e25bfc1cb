"""The identity use-case families, built together on one set of ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.identity.accounts import Accounts
from domain.identity.administration import UserAdministration
from domain.identity.api_keys import ApiKeys
from domain.identity.browser_sessions import BrowserSessions
from domain.identity.lockout import Lockout
from domain.identity.mfa import Mfa
from domain.identity.parts import IdentityParts
from domain.identity.ports import ApiKeyLookup, IdentityProvider
from domain.identity.sign_in import SignIn
from domain.identity.single_sign_on import ProviderRules, SingleSignOn


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
    single_sign_on: SingleSignOn

    @classmethod
    def of(
        cls,
        parts: IdentityParts,
        keys: ApiKeyLookup,
        providers: Mapping[str, IdentityProvider] | None = None,
        rules: Mapping[str, ProviderRules] | None = None,
        redirect_uris: tuple[str, ...] = (),
    ) -> Identity:
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
            single_sign_on=SingleSignOn(parts, sign_in, dict(providers or {}), dict(rules or {}), redirect_uris),
        )
