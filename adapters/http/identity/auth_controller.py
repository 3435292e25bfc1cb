"""`/api/v1/auth`: registration, sign-in, tokens, passwords, email verification, MFA (API §5.2)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, URLEncodedBody

from adapters.http.identity.schemas import (
    AuthResponse,
    CodeRequest,
    EmailRequest,
    LoginRequest,
    MessageResponse,
    MfaChallengeResponse,
    MfaLoginRequest,
    PasswordRequest,
    RecoveryCodesResponse,
    RefreshRequest,
    ResetPasswordRequest,
    TokenForm,
    TokenRequest,
    TokenResponse,
    TotpSetupResponse,
    UserCreate,
    UserResponse,
)
from adapters.http.openapi import errors
from adapters.http.ratelimit import lockout_precheck
from adapters.http.security import BEARER, OPTIONAL_BEARER, authenticated, bearer_token
from domain.identity.accounts import Accounts
from domain.identity.lockout import Lockout
from domain.identity.mfa import Mfa
from domain.identity.model import AuthResult, MfaChallenge, Principal, TokenPair
from domain.identity.policy import NewUser
from domain.identity.sign_in import SignIn

FORGOT_MESSAGE = "If the email is registered, a reset link has been sent"
VERIFY_REQUEST_MESSAGE = "If the email is registered, a verification link has been sent"


def tokens_of(pair: TokenPair) -> TokenResponse:
    return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token)


def auth_response(result: AuthResult) -> AuthResponse:
    return AuthResponse(user=UserResponse.of(result.user), tokens=tokens_of(result.tokens))


def challenge_response(challenge: MfaChallenge) -> MfaChallengeResponse:
    return MfaChallengeResponse(
        challenge_token=challenge.challenge_token,
        expires_in_seconds=challenge.expires_in_seconds,
        mfa_method=challenge.mfa_method,
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/register", operation_id="register", status_code=201, responses=errors(403, 409, 422, 429))
    async def register(self, data: JSONBody[UserCreate], accounts: NamedDependency[Accounts]) -> AuthResponse:
        """Create an account and sign in. Queues a welcome email and an email-verification email.

        Only `student` is accepted as `role` unless the operator allows public role registration.
        """
        result = await accounts.register(
            NewUser(email=data.email, full_name=data.full_name, password=data.password, role=data.role)
        )
        return auth_response(result)

    @post("/login", operation_id="login", status_code=200, responses=errors(401, 422, 429))
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest], sign_in: NamedDependency[SignIn]
    ) -> AuthResponse | MfaChallengeResponse:
        """Sign in with email and password.

        Answers an `AuthResponse`, or, when MFA is on, an `MfaChallengeResponse` (it has
        `mfa_required: true`) to complete with `POST /api/v1/auth/login/mfa`. After repeated
        failures for one email, password sign-in for it is locked for a while (`401`).
        """
        outcome = await sign_in.login(data.email, data.password, lockout_precheck(request.scope))
        if isinstance(outcome, MfaChallenge):
            return challenge_response(outcome)
        return auth_response(outcome)

    @post("/token", operation_id="token", status_code=200, responses=errors(400, 401, 422, 429))
    async def token(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[TokenForm], sign_in: NamedDependency[SignIn]
    ) -> TokenResponse:
        """OAuth2 password grant (form: `username` is the email). Refused for accounts with MFA."""
        return tokens_of(await sign_in.token_login(data.username, data.password, lockout_precheck(request.scope)))

    @post("/login/mfa", operation_id="login_mfa", status_code=200, responses=errors(401, 422, 429))
    async def login_mfa(self, data: JSONBody[MfaLoginRequest], sign_in: NamedDependency[SignIn]) -> AuthResponse:
        """Complete an MFA sign-in with the emailed code, a TOTP code or a recovery code."""
        return auth_response(await sign_in.login_mfa(data.challenge_token, data.code))

    @post(
        "/mfa/login", operation_id="login_mfa_alias", status_code=200, deprecated=True, responses=errors(401, 422, 429)
    )
    async def login_mfa_alias(self, data: JSONBody[MfaLoginRequest], sign_in: NamedDependency[SignIn]) -> AuthResponse:
        """Alias of `POST /api/v1/auth/login/mfa`."""
        return auth_response(await sign_in.login_mfa(data.challenge_token, data.code))

    @post(
        "/refresh", operation_id="refresh", status_code=200, security=OPTIONAL_BEARER, responses=errors(401, 422, 429)
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RefreshRequest],
        sign_in: NamedDependency[SignIn],
    ) -> AuthResponse:
        """Exchange a refresh token for a new pair (rotation). The old refresh token stops working.

        An optional Bearer access token (even expired) must belong to the same user; it is revoked.
        """
        return auth_response(await sign_in.refresh(data.refresh_token, bearer_token(request)))

    @post(
        "/logout",
        operation_id="logout",
        status_code=204,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 422, 429),
    )
    async def logout(
        self,
        data: JSONBody[RefreshRequest],
        sign_in: NamedDependency[SignIn],
        principal: NamedDependency[Principal],
    ) -> None:
        """End this sign-in: revoke the refresh token and the presented access token."""
        await sign_in.logout(principal, data.refresh_token)

    @post("/forgot-password", operation_id="forgot_password", status_code=200, responses=errors(422, 429))
    async def forgot_password(
        self, data: JSONBody[EmailRequest], accounts: NamedDependency[Accounts]
    ) -> MessageResponse:
        """Email a password-reset link if the account exists; the answer never says whether it does."""
        await accounts.forgot_password(data.email)
        return MessageResponse(message=FORGOT_MESSAGE)

    @post("/reset-password", operation_id="reset_password", status_code=200, responses=errors(401, 422, 429))
    async def reset_password(
        self, data: JSONBody[ResetPasswordRequest], accounts: NamedDependency[Accounts]
    ) -> MessageResponse:
        """Set a new password with a reset token (single use). Signs out every session."""
        await accounts.reset_password(data.token, data.new_password)
        return MessageResponse(message="Password has been reset successfully")

    @post("/unlock", operation_id="unlock_account", status_code=200, responses=errors(400, 422, 429))
    async def unlock(self, data: JSONBody[TokenRequest], lockout: NamedDependency[Lockout]) -> MessageResponse:
        """Lift a lock on password sign-in with the link of the `Your account was locked` email.

        The token works once, and only while the lock it was sent for lasts.
        """
        await lockout.unlock(data.token)
        return MessageResponse(message="Account has been unlocked")

    @post(
        "/verify-email/request", operation_id="request_email_verification", status_code=200, responses=errors(422, 429)
    )
    async def request_verification(
        self, data: JSONBody[EmailRequest], accounts: NamedDependency[Accounts]
    ) -> MessageResponse:
        """Email a verification link to an existing, unverified account; the answer is always the same."""
        await accounts.request_verification(data.email)
        return MessageResponse(message=VERIFY_REQUEST_MESSAGE)

    @post(
        "/verify-email/confirm",
        operation_id="confirm_email_verification",
        status_code=200,
        responses=errors(401, 422, 429),
    )
    async def confirm_verification(
        self, data: JSONBody[TokenRequest], accounts: NamedDependency[Accounts]
    ) -> MessageResponse:
        """Mark the email verified (idempotent)."""
        await accounts.confirm_verification(data.token)
        return MessageResponse(message="Email has been verified successfully")

    @post(
        "/mfa/enable/request",
        operation_id="request_email_mfa",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 422, 429),
    )
    async def request_email_mfa(
        self,
        data: JSONBody[PasswordRequest],
        mfa: NamedDependency[Mfa],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Start turning on emailed-code MFA: a 6-digit code is emailed (valid 10 minutes)."""
        await mfa.request_email_mfa(principal, data.password)
        return MessageResponse(message="A verification code has been sent to your email")

    @post(
        "/mfa/enable/confirm",
        operation_id="confirm_email_mfa",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 422, 429),
    )
    async def confirm_email_mfa(
        self,
        data: JSONBody[CodeRequest],
        mfa: NamedDependency[Mfa],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Turn on emailed-code MFA with the code from the email."""
        await mfa.confirm_email_mfa(principal, data.code)
        return MessageResponse(message="MFA has been enabled successfully")

    @post(
        "/mfa/disable",
        operation_id="disable_mfa",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 422, 429),
    )
    async def disable_mfa(
        self,
        data: JSONBody[PasswordRequest],
        mfa: NamedDependency[Mfa],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Turn MFA off and discard the TOTP secret and recovery codes."""
        await mfa.disable_mfa(principal, data.password)
        return MessageResponse(message="MFA has been disabled successfully")

    @post(
        "/mfa/totp/setup",
        operation_id="setup_totp",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 409, 422, 429),
    )
    async def setup_totp(
        self,
        data: JSONBody[PasswordRequest],
        mfa: NamedDependency[Mfa],
        principal: NamedDependency[Principal],
    ) -> TotpSetupResponse:
        """Create a pending authenticator-app secret (valid 10 minutes) and its `otpauth://` URI."""
        setup = await mfa.setup_totp(principal, data.password)
        return TotpSetupResponse(secret=setup.secret, otpauth_uri=setup.otpauth_uri)

    @post(
        "/mfa/totp/confirm",
        operation_id="confirm_totp",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(400, 401, 422, 429),
    )
    async def confirm_totp(
        self,
        data: JSONBody[CodeRequest],
        mfa: NamedDependency[Mfa],
        principal: NamedDependency[Principal],
    ) -> RecoveryCodesResponse:
        """Turn on TOTP MFA with a current code; returns 10 single-use recovery codes, shown once."""
        return RecoveryCodesResponse(recovery_codes=await mfa.confirm_totp(principal, data.code))

    @get("/me", operation_id="auth_me", guards=[authenticated], security=BEARER, responses=errors(401, 429))
    async def me(self, principal: NamedDependency[Principal]) -> UserResponse:
        """The signed-in user."""
        return UserResponse.of(principal.user)
