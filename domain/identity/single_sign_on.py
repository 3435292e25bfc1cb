"""Single sign-on with OpenID Connect (API §10.3): the flow's state, the account it ends in (linked,
linked by a verified email, or made just in time), the one-time code a single-page app exchanges
for tokens, and the identities a user keeps."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode
from uuid import UUID

from domain.identity.model import AuthResult, LinkedIdentity, MfaChallenge, Principal, Role, User
from domain.identity.parts import IdentityParts
from domain.identity.policy import SSO, normalize_email
from domain.identity.ports import ExternalIdentity, IdentityProvider, SignInFailed
from domain.identity.sign_in import SignIn
from domain.shared.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams

UNKNOWN_PROVIDER = "Unknown sign-in provider"
REDIRECT_NOT_ALLOWED = "redirect_uri is not allowed"
FLOW_INVALID = "Sign-in flow expired or invalid"
CODE_INVALID = "Sign-in code is invalid or expired"
ONLY_WAY_IN = "Cannot remove the only way to sign in"
IDENTITY_NOT_FOUND = "Sign-in identity not found"
FLOW_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderRules:
    """What the operator allows through one provider."""

    allowed_domains: tuple[str, ...] = ()
    default_role: Role = Role.STUDENT
    require_local_mfa: bool = False


@dataclass(slots=True)
class SingleSignOn:
    parts: IdentityParts
    sign_in: SignIn
    providers: Mapping[str, IdentityProvider] = field(default_factory=dict)
    rules: Mapping[str, ProviderRules] = field(default_factory=dict)
    redirect_uris: tuple[str, ...] = ()

    def listed(self) -> list[IdentityProvider]:
        return list(self.providers.values())

    def _provider(self, name: str) -> IdentityProvider:
        provider = self.providers.get(name)
        if provider is None:
            raise NotFound(UNKNOWN_PROVIDER)
        return provider

    async def start(self, name: str, redirect_uri: str, callback: str) -> str:
        """O2: the provider's authorization URL; the flow's secrets stay here for 10 minutes."""
        provider = self._provider(name)
        if redirect_uri not in self.redirect_uris:
            raise InvalidInput(REDIRECT_NOT_ALLOWED)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        flow = {"provider": name, "redirect_uri": redirect_uri, "callback": callback, "nonce": nonce,
                "verifier": verifier, "started": self.parts.clock.now().timestamp()}  # fmt: skip
        await self.parts.kv.set(f"sso:flow:{state}", json.dumps(flow), FLOW_TTL.total_seconds())
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        try:
            return await provider.authorization_url(callback, state=state, nonce=nonce, code_challenge=challenge)
        except SignInFailed as failed:
            await self.parts.kv.delete(f"sso:flow:{state}")
            return _back(redirect_uri, error=failed.reason)

    async def finish(self, name: str, state: str, code: str | None, error: str | None) -> str:
        """O3: where the browser goes next, the front end's URL with `?code=` or `?error=`. The
        state works once and for 10 minutes; anything that fails creates nothing."""
        raw = await self.parts.kv.pop(f"sso:flow:{state}") if state else None
        flow = json.loads(raw) if raw else None
        now = self.parts.clock.now()
        if flow is None or flow["provider"] != name or now.timestamp() - flow["started"] > FLOW_TTL.total_seconds():
            raise InvalidInput(FLOW_INVALID)
        provider = self._provider(name)
        if error is not None or not code:
            return _back(flow["redirect_uri"], error=error or "access_denied")
        try:
            who = await provider.redeem(code, flow["callback"], code_verifier=flow["verifier"], nonce=flow["nonce"])
            user = await self._account(who, self.rules.get(name, ProviderRules()))
        except SignInFailed as failed:
            return _back(flow["redirect_uri"], error=failed.reason)
        one_time = secrets.token_urlsafe(32)
        grant = {"user": str(user.id), "provider": name, "until": (now + CODE_TTL).timestamp()}
        await self.parts.kv.set(f"sso:code:{one_time}", json.dumps(grant), CODE_TTL.total_seconds())
        return _back(flow["redirect_uri"], code=one_time)

    async def _account(self, who: ExternalIdentity, rules: ProviderRules) -> User:
        p = self.parts
        email = normalize_email(who.email) if who.email else None
        if email is None:
            raise SignInFailed("email_missing")
        if rules.allowed_domains and email.rpartition("@")[2] not in rules.allowed_domains:
            raise SignInFailed("domain_not_allowed")
        async with p.uow() as uow:
            linked = await uow.identities.find(who.provider, who.subject)
        user = await p.users.get(linked.user_id) if linked is not None else None
        if user is None:
            user = await p.users.get_by_email(email)
            if user is not None and not who.email_verified:
                raise SignInFailed("email_not_verified")  # an unverified claim never takes an account
            if user is None:
                try:
                    user = await self._new_account(who, email, rules)
                except Conflict:  # a racing callback for the same person made the account first
                    user = await p.users.get_by_email(email)
                    if user is None:
                        raise SignInFailed("try_again") from None
            await self._link(user, who, email)
        if not user.is_active:
            raise SignInFailed("account_disabled")
        return user

    async def _new_account(self, who: ExternalIdentity, email: str, rules: ProviderRules) -> User:
        """Just in time: an active user with no password, verified when the provider says so."""
        return await self.parts.insert_user(
            email=email,
            full_name=(who.name or email.partition("@")[0])[:255],
            role=rules.default_role,
            password_hash=None,
            verified=who.email_verified,
        )

    async def _link(self, user: User, who: ExternalIdentity, email: str) -> None:
        link = LinkedIdentity(
            id=new_id(),
            user_id=user.id,
            provider=who.provider,
            subject=who.subject,
            email=email,
            linked_at=self.parts.clock.now(),
        )
        async with self.parts.uow() as uow:
            await uow.identities.add(link)  # a racing callback linked it first: the same account
            await uow.commit()

    async def exchange(self, code: str) -> AuthResult | MfaChallenge:
        """O4: the one-time code for tokens, once and within 60 s."""
        p = self.parts
        raw = await p.kv.pop(f"sso:code:{code}") if code else None
        grant = json.loads(raw) if raw else None
        if grant is None or p.clock.now().timestamp() > grant["until"]:
            raise Unauthenticated(CODE_INVALID)
        user = await p.users.get(UUID(grant["user"]))
        if user is None or not user.is_active:
            raise Unauthenticated("User account is disabled")
        rules = self.rules.get(grant["provider"], ProviderRules())
        if rules.require_local_mfa and user.mfa_method is not None:
            return await self.sign_in.challenge(user)
        return AuthResult(user=user, tokens=await p.start_sign_in(user, via=SSO))

    async def identities(self, principal: Principal, params: PageParams) -> Page[LinkedIdentity]:
        async with self.parts.uow() as uow:
            return await uow.identities.page(principal.user.id, params)

    async def unlink(self, principal: Principal, provider: str) -> None:
        """O6: refused when it would leave the user no way to sign in."""
        user = principal.user
        async with self.parts.uow() as uow:
            if not await uow.identities.remove(user.id, provider):
                raise NotFound(IDENTITY_NOT_FOUND)
            if user.password_hash is None and await uow.identities.count(user.id) == 0:
                raise Conflict(ONLY_WAY_IN)  # leaving without commit undoes the removal
            await uow.commit()


def _back(redirect_uri: str, **query: str) -> str:
    joiner = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{joiner}{urlencode(query)}"
