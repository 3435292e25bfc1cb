"""Identity rules (API §7.1–§7.3) on in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from domain.identity.model import AuthResult, MfaChallenge, MfaMethod, Principal, Role
from domain.identity.policy import NewUser, normalize_recovery_code
from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, Unavailable
from domain.shared.pagination import PageParams
from domain.shared.ports import KeyValueUnavailable
from domain.shared.unset import UNSET
from tests.unit.conftest import World

PW = "password-123"


async def register(world: World, email: str = "Ada@Example.com", role: Role = Role.STUDENT) -> AuthResult:
    return await world.identity.accounts.register(NewUser(email=email, full_name="Ada", password=PW, role=role))


async def principal(world: World, result: AuthResult) -> Principal:
    return await world.identity.sign_in.authenticate(result.tokens.access_token)


async def test_register_normalizes_email_and_queues_welcome_and_verification(world: World) -> None:
    result = await register(world)
    assert result.user.email == "ada@example.com"
    assert result.user.role is Role.STUDENT
    assert [p["subject"] for _, p in world.queue.jobs] == ["Welcome to LMS", "Verify your email address"]
    assert (await principal(world, result)).user.id == result.user.id


async def test_duplicate_email_is_a_conflict_regardless_of_case(world: World) -> None:
    await register(world, "ada@example.com")
    with pytest.raises(Conflict, match="Email is already registered"):
        await register(world, "ADA@EXAMPLE.COM")
    assert len(world.store.users) == 1


async def test_public_registration_of_other_roles_needs_the_switch(make_world: Callable[..., World]) -> None:
    closed = make_world()
    with pytest.raises(Forbidden, match="limited to student accounts"):
        await register(closed, role=Role.INSTRUCTOR)
    assert closed.store.users == {}
    opened = make_world(allow_public_role_registration=True)
    assert (await register(opened, role=Role.ADMIN)).user.role is Role.ADMIN


async def test_login_does_not_reveal_which_part_was_wrong(world: World) -> None:
    await register(world)
    for email, password in (("nobody@example.com", PW), ("ada@example.com", "wrong-password")):
        with pytest.raises(Unauthenticated) as err:
            await world.identity.sign_in.login(email, password)
        assert err.value.detail == "Invalid email or password"


async def test_disabled_and_unverified_users_cannot_log_in(make_world: Callable[..., World]) -> None:
    world = make_world(require_email_verification=True)
    result = await register(world)
    with pytest.raises(Unauthenticated, match="Email is not verified"):
        await world.identity.sign_in.login("ada@example.com", PW)
    with pytest.raises(Unauthenticated, match="Email is not verified"):
        await principal(world, result)  # even with the tokens from registration
    world.store.users[result.user.id].is_active = False
    with pytest.raises(Unauthenticated, match="User account is disabled"):
        await world.identity.sign_in.login("ada@example.com", PW)


async def test_refresh_rotates_and_a_rotated_token_is_refused(world: World) -> None:
    first = await register(world)
    second = await world.identity.sign_in.refresh(first.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated, match="Refresh token is invalid or revoked"):
        await world.identity.sign_in.refresh(first.tokens.refresh_token, None)
    # The pair from the earlier rotation stays valid (API §7.1).
    third = await world.identity.sign_in.refresh(second.tokens.refresh_token, None)
    assert (await principal(world, third)).user.id == first.user.id


async def test_reuse_can_revoke_the_whole_sign_in(make_world: Callable[..., World]) -> None:
    world = make_world(refresh_reuse_revokes_session=True)
    first = await register(world)
    second = await world.identity.sign_in.refresh(first.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated):
        await world.identity.sign_in.refresh(first.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated, match="Refresh token is invalid or revoked"):
        await world.identity.sign_in.refresh(second.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, second)


async def test_refresh_bearer_must_be_the_same_user_and_is_revoked(world: World) -> None:
    ada = await register(world)
    bob = await register(world, "bob@example.com")
    with pytest.raises(Unauthenticated, match="Access token does not match refresh token"):
        await world.identity.sign_in.refresh(ada.tokens.refresh_token, bob.tokens.access_token)
    await world.identity.sign_in.refresh(ada.tokens.refresh_token, ada.tokens.access_token)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, ada)


async def test_refresh_token_is_not_an_access_token(world: World) -> None:
    ada = await register(world)
    with pytest.raises(Unauthenticated, match="Invalid token type") as err:
        await world.identity.sign_in.authenticate(ada.tokens.refresh_token)
    assert err.value.token_rejected
    with pytest.raises(Unauthenticated, match="Invalid token type"):
        await world.identity.sign_in.refresh(ada.tokens.access_token, None)


async def test_logout_revokes_refresh_and_access(world: World) -> None:
    ada = await register(world)
    bob = await register(world, "bob@example.com")
    me = await principal(world, ada)
    with pytest.raises(Unauthenticated, match="Access token does not match refresh token"):
        await world.identity.sign_in.logout(me, bob.tokens.refresh_token)
    await world.identity.sign_in.logout(me, ada.tokens.refresh_token)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, ada)
    with pytest.raises(Unauthenticated, match="Refresh token is invalid or revoked"):
        await world.identity.sign_in.refresh(ada.tokens.refresh_token, None)


async def test_password_reset_revokes_everything_issued_before_even_in_the_same_second(world: World) -> None:
    ada = await register(world)
    await world.identity.accounts.forgot_password("ADA@example.com")
    [mail] = world.queue.mails("ada@example.com", "Reset your password")
    token = mail["body"].split("token=")[1].split()[0]
    world.clock.advance(microseconds=1000)
    await world.identity.accounts.reset_password(token, "brand-new-password")
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, ada)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await world.identity.sign_in.refresh(ada.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await world.identity.accounts.reset_password(token, "another-password")  # single use
    world.clock.advance(microseconds=1000)
    fresh = await world.identity.sign_in.login("ada@example.com", "brand-new-password")
    assert isinstance(fresh, AuthResult)
    await principal(world, fresh)


async def test_forgot_password_sends_nothing_for_unknown_or_inactive(world: World) -> None:
    ada = await register(world)
    world.store.users[ada.user.id].is_active = False
    await world.identity.accounts.forgot_password("ada@example.com")
    await world.identity.accounts.forgot_password("nobody@example.com")
    assert world.queue.mails("ada@example.com", "Reset your password") == []


async def test_own_password_change_keeps_this_sign_in_only(world: World) -> None:
    await register(world)
    here = await world.identity.sign_in.login("ada@example.com", PW)
    there = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(here, AuthResult) and isinstance(there, AuthResult)
    me = await principal(world, here)
    with pytest.raises(Unauthenticated, match="Invalid password"):
        await world.identity.accounts.change_password(me, "not-my-password", "new-password-1")
    await world.identity.accounts.change_password(me, PW, "new-password-1")
    await world.identity.sign_in.refresh(here.tokens.refresh_token, None)
    with pytest.raises(Unauthenticated, match="Refresh token is invalid or revoked"):
        await world.identity.sign_in.refresh(there.tokens.refresh_token, None)
    await principal(world, there)  # access tokens of other sign-ins live out their 15 minutes


async def test_email_verification_is_idempotent(world: World) -> None:
    ada = await register(world)
    [mail] = world.queue.mails("ada@example.com", "Verify your email address")
    token = mail["body"].split("token=")[1].split()[0]
    await world.identity.accounts.confirm_verification(token)
    await world.identity.accounts.confirm_verification(token)
    verified = world.store.users[ada.user.id].email_verified_at
    assert verified is not None
    await world.identity.accounts.request_verification("ada@example.com")  # already verified: nothing sent
    assert len(world.queue.mails("ada@example.com", "Verify your email address")) == 1


async def test_emailed_mfa_code_enable_and_sign_in(world: World) -> None:
    ada = await register(world)
    me = await principal(world, ada)
    with pytest.raises(Unauthenticated, match="Invalid password"):
        await world.identity.mfa.request_email_mfa(me, "wrong-password")
    await world.identity.mfa.request_email_mfa(me, PW)
    [mail] = world.queue.mails("ada@example.com", "Your MFA setup code")
    code = next(line for line in mail["body"].splitlines() if line.isdigit())
    with pytest.raises(Unauthenticated, match="Invalid MFA code"):
        await world.identity.mfa.confirm_email_mfa(me, "000000" if code != "000000" else "111111")
    await world.identity.mfa.confirm_email_mfa(me, f"  {code} ")
    assert world.store.users[ada.user.id].mfa_method is MfaMethod.EMAIL

    challenge = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(challenge, MfaChallenge)
    assert challenge.mfa_method is MfaMethod.EMAIL and challenge.expires_in_seconds == 600
    [sign_in] = world.queue.mails("ada@example.com", "Your sign-in code")
    login_code = next(line for line in sign_in["body"].splitlines() if line.isdigit())
    result = await world.identity.sign_in.login_mfa(challenge.challenge_token, login_code)
    assert result.user.id == ada.user.id
    with pytest.raises(Unauthenticated, match="MFA challenge expired or invalid"):
        await world.identity.sign_in.login_mfa(challenge.challenge_token, login_code)  # single use


async def test_five_wrong_codes_kill_the_challenge(world: World) -> None:
    ada = await register(world)
    world.store.users[ada.user.id].mfa_method = MfaMethod.EMAIL
    challenge = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(challenge, MfaChallenge)
    [sign_in] = world.queue.mails("ada@example.com", "Your sign-in code")
    good = next(line for line in sign_in["body"].splitlines() if line.isdigit())
    bad = "000000" if good != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="Invalid MFA code"):
            await world.identity.sign_in.login_mfa(challenge.challenge_token, bad)
    with pytest.raises(Unauthenticated, match="MFA challenge expired or invalid"):
        await world.identity.sign_in.login_mfa(challenge.challenge_token, good)


async def test_token_grant_refuses_mfa_accounts(world: World) -> None:
    ada = await register(world)
    assert (await world.identity.sign_in.token_login("ada@example.com", PW)).access_token
    world.store.users[ada.user.id].mfa_method = MfaMethod.TOTP
    with pytest.raises(InvalidInput, match="MFA is enabled for this account"):
        await world.identity.sign_in.token_login("ada@example.com", PW)


async def test_totp_codes_work_once_and_recovery_codes_once_each(world: World) -> None:
    world.clock.current -= timedelta(seconds=60)  # room to step forward without minting future tokens
    ada = await register(world)
    me = await principal(world, ada)
    with pytest.raises(InvalidInput, match="No TOTP setup is pending"):
        await world.identity.mfa.confirm_totp(me, "123456")
    setup = await world.identity.mfa.setup_totp(me, PW)
    assert len(setup.secret) == 32
    assert setup.otpauth_uri.startswith("otpauth://totp/LMS:ada%40example.com?secret=")
    totp = pyotp.TOTP(setup.secret)
    now = world.clock.now()
    codes = await world.identity.mfa.confirm_totp(me, totp.at(now))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    me = await principal(world, ada)
    with pytest.raises(Conflict, match="TOTP is already enabled"):
        await world.identity.mfa.setup_totp(me, PW)

    challenge = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(challenge, MfaChallenge) and challenge.mfa_method is MfaMethod.TOTP
    assert world.queue.mails("ada@example.com", "Your sign-in code") == []
    # The code just used for confirmation is spent, so is any earlier step.
    with pytest.raises(Unauthenticated, match="Invalid MFA code"):
        await world.identity.sign_in.login_mfa(challenge.challenge_token, totp.at(now))
    world.clock.advance(seconds=30)
    await world.identity.sign_in.login_mfa(challenge.challenge_token, totp.at(world.clock.now()))

    second = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(second, MfaChallenge)
    shouted = codes[0].upper().replace("-", " - ")
    await world.identity.sign_in.login_mfa(second.challenge_token, shouted)
    third = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(third, MfaChallenge)
    with pytest.raises(Unauthenticated, match="Invalid MFA code"):
        await world.identity.sign_in.login_mfa(third.challenge_token, codes[0])


async def test_disable_mfa_clears_everything(world: World) -> None:
    ada = await register(world)
    me = await principal(world, ada)
    setup = await world.identity.mfa.setup_totp(me, PW)
    await world.identity.mfa.confirm_totp(me, pyotp.TOTP(setup.secret).at(world.clock.now()))
    me = await principal(world, ada)
    await world.identity.mfa.disable_mfa(me, PW)
    user = world.store.users[ada.user.id]
    assert user.mfa_method is None and user.totp_secret is None
    assert world.store.codes == {}
    assert isinstance(await world.identity.sign_in.login("ada@example.com", PW), AuthResult)
    await world.identity.mfa.disable_mfa(await principal(world, ada), PW)  # already off: same answer


async def test_admin_rules(world: World) -> None:
    student_auth = await register(world)
    student = await principal(world, student_auth)
    with pytest.raises(Forbidden, match="Not authorized to perform this action"):
        await world.identity.admin.list_users(student.user, PageParams())
    admin = await world.identity.accounts.create_admin("root@example.com", "Root", PW)
    assert admin.email_verified_at is not None and admin.role is Role.ADMIN
    with pytest.raises(NotFound, match="User not found"):
        await world.identity.admin.get_user(admin, uuid.uuid4())
    with pytest.raises(InvalidInput, match="'role' cannot be null"):
        await world.identity.admin.update_user(admin, student.user.id, role=None)
    page = await world.identity.admin.list_users(admin, PageParams(page=1, page_size=1))
    assert page.total == 2 and page.total_pages == 2 and page.items[0].id == admin.id

    world.clock.advance(microseconds=10)
    await world.identity.admin.update_user(admin, student.user.id, password="reset-by-admin")
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, student_auth)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await world.identity.sign_in.refresh(student_auth.tokens.refresh_token, None)

    world.clock.advance(microseconds=10)
    fresh = await world.identity.sign_in.login(student.user.email, "reset-by-admin")
    assert isinstance(fresh, AuthResult)
    updated = await world.identity.admin.update_user(admin, student.user.id, is_active=False, full_name=UNSET)
    assert updated.is_active is False and updated.full_name == "Ada"
    with pytest.raises(Unauthenticated, match="Could not validate credentials"):
        await principal(world, fresh)
    with pytest.raises(Unauthenticated, match="User is inactive"):
        await world.identity.sign_in.refresh(fresh.tokens.refresh_token, None)


async def test_the_last_admin_stays(world: World) -> None:
    first = await world.identity.accounts.create_admin("first@example.com", "First", PW)
    second = await world.identity.accounts.create_admin("second@example.com", "Second", PW)
    for change in ({"is_active": False}, {"role": Role.STUDENT}):
        with pytest.raises(Conflict, match="Admins cannot deactivate or demote themselves"):
            await world.identity.admin.update_user(first, first.id, **change)
    # The first admin was deactivated meanwhile (another request): the second is the last one.
    await world.identity.admin.update_user(second, first.id, is_active=False)
    for change in ({"is_active": False}, {"role": Role.INSTRUCTOR}):
        with pytest.raises(Conflict, match="Cannot remove the last admin"):
            await world.identity.admin.update_user(first, second.id, **change)
    assert (await world.identity.admin.get_user(second, second.id)).is_active
    # Changes that remove no admin go through, and a second admin makes the first removable.
    assert (await world.identity.admin.update_user(first, second.id, full_name="Still here")).full_name == "Still here"
    await world.identity.admin.update_user(second, first.id, is_active=True)
    assert (await world.identity.admin.update_user(second, first.id, role=Role.STUDENT)).role is Role.STUDENT


async def test_blacklist_fails_closed_without_fallback(world: World) -> None:
    class DownStore:
        async def exists(self, *keys: str) -> int:
            raise KeyValueUnavailable

        async def set(self, key: str, value: str, ttl: float) -> None:
            raise KeyValueUnavailable

    from domain.identity.blacklist import TokenBlacklist

    ada = await register(world)
    world.identity.parts.blacklist = TokenBlacklist(DownStore(), None)  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="Token revocation service unavailable"):
        await principal(world, ada)
    fallback = world.kv
    world.identity.parts.blacklist = TokenBlacklist(DownStore(), fallback)  # type: ignore[arg-type]
    me = await principal(world, ada)
    await world.identity.sign_in.logout(me, ada.tokens.refresh_token)
    with pytest.raises(Unauthenticated, match="Token has been revoked"):
        await principal(world, ada)


async def test_password_sign_in_goes_on_without_lockout_when_the_store_is_down(world: World) -> None:
    """As rate limits do (API §7.15): sign-in keeps working; failures are simply not counted."""

    class DownStore:
        def __getattr__(self, name: str) -> Any:
            async def down(*_: Any, **__: Any) -> Any:
                raise KeyValueUnavailable

            return down

    await register(world)
    world.identity.parts.kv = DownStore()  # type: ignore[assignment]
    for _ in range(10):
        with pytest.raises(Unauthenticated, match="Invalid email or password"):
            await world.identity.sign_in.login("ada@example.com", "wrong-password")
    assert isinstance(await world.identity.sign_in.login("ada@example.com", PW), AuthResult)


async def test_expired_tokens_are_refused(world: World) -> None:
    await register(world)
    world.clock.current -= timedelta(hours=1)
    old = await world.identity.sign_in.login("ada@example.com", PW)
    assert isinstance(old, AuthResult)
    with pytest.raises(Unauthenticated, match="Could not validate credentials") as err:
        await world.identity.sign_in.authenticate(old.tokens.access_token)
    assert err.value.token_rejected


def test_recovery_code_normalization() -> None:
    assert normalize_recovery_code(" ABCDE - fghij ") == "abcdefghij"
