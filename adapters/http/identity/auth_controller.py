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
from adapters.http.security import BEARER, OPTIONAL_BEARER, authenticated, bearer_token
from domain.identity.model import AuthResult, MfaChallenge, Principal, TokenPair
from domain.identity.services import IdentityService, NewUser

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
    async def register(self, data: JSONBody[UserCreate], identity: NamedDependency[IdentityService]) -> AuthResponse:
        """Create an account and sign in. Queues a welcome email and an email-verification email.

        Only `student` is accepted as `role` unless the operator allows public role registration.
        """
        result = await identity.register(
            NewUser(email=data.email, full_name=data.full_name, password=data.password, role=data.role)
        )
        return auth_response(result)

    @post("/login", operation_id="login", status_code=200, responses=errors(401, 422, 429))
    async def login(
        self, data: JSONBody[LoginRequest], identity: NamedDependency[IdentityService]
    ) -> AuthResponse | MfaChallengeResponse:
        """Sign in with email and password.

        Answers an `AuthResponse`, or, when MFA is on, an `MfaChallengeResponse` (it has
        `mfa_required: true`) to complete with `POST /api/v1/auth/login/mfa`.
        """
        outcome = await identity.login(data.email, data.password)
        if isinstance(outcome, MfaChallenge):
            return challenge_response(outcome)
        return auth_response(outcome)

    @post("/token", operation_id="token", status_code=200, responses=errors(400, 401, 422, 429))
    async def token(self, data: URLEncodedBody[TokenForm], identity: NamedDependency[IdentityService]) -> TokenResponse:
        """OAuth2 password grant (form: `username` is the email). Refused for accounts with MFA."""
        return tokens_of(await identity.token_login(data.username, data.password))

    @post("/login/mfa", operation_id="login_mfa", status_code=200, responses=errors(401, 422, 429))
    async def login_mfa(
        self, data: JSONBody[MfaLoginRequest], identity: NamedDependency[IdentityService]
    ) -> AuthResponse:
        """Complete an MFA sign-in with the emailed code, a TOTP code or a recovery code."""
        return auth_response(await identity.login_mfa(data.challenge_token, data.code))

    @post(
        "/mfa/login", operation_id="login_mfa_alias", status_code=200, deprecated=True, responses=errors(401, 422, 429)
    )
    async def login_mfa_alias(
        self, data: JSONBody[MfaLoginRequest], identity: NamedDependency[IdentityService]
    ) -> AuthResponse:
        """Alias of `POST /api/v1/auth/login/mfa`."""
        return auth_response(await identity.login_mfa(data.challenge_token, data.code))

    @post(
        "/refresh", operation_id="refresh", status_code=200, security=OPTIONAL_BEARER, responses=errors(401, 422, 429)
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RefreshRequest],
        identity: NamedDependency[IdentityService],
    ) -> AuthResponse:
        """Exchange a refresh token for a new pair (rotation). The old refresh token stops working.

        An optional Bearer access token (even expired) must belong to the same user; it is revoked.
        """
        return auth_response(await identity.refresh(data.refresh_token, bearer_token(request)))

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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> None:
        """End this sign-in: revoke the refresh token and the presented access token."""
        await identity.logout(principal, data.refresh_token)

    @post("/forgot-password", operation_id="forgot_password", status_code=200, responses=errors(422, 429))
    async def forgot_password(
        self, data: JSONBody[EmailRequest], identity: NamedDependency[IdentityService]
    ) -> MessageResponse:
        """Email a password-reset link if the account exists; the answer never says whether it does."""
        await identity.forgot_password(data.email)
        return MessageResponse(message=FORGOT_MESSAGE)

    @post("/reset-password", operation_id="reset_password", status_code=200, responses=errors(401, 422, 429))
    async def reset_password(
        self, data: JSONBody[ResetPasswordRequest], identity: NamedDependency[IdentityService]
    ) -> MessageResponse:
        """Set a new password with a reset token (single use). Signs out every session."""
        await identity.reset_password(data.token, data.new_password)
        return MessageResponse(message="Password has been reset successfully")

    @post(
        "/verify-email/request", operation_id="request_email_verification", status_code=200, responses=errors(422, 429)
    )
    async def request_verification(
        self, data: JSONBody[EmailRequest], identity: NamedDependency[IdentityService]
    ) -> MessageResponse:
        """Email a verification link to an existing, unverified account; the answer is always the same."""
        await identity.request_verification(data.email)
        return MessageResponse(message=VERIFY_REQUEST_MESSAGE)

    @post(
        "/verify-email/confirm",
        operation_id="confirm_email_verification",
        status_code=200,
        responses=errors(401, 422, 429),
    )
    async def confirm_verification(
        self, data: JSONBody[TokenRequest], identity: NamedDependency[IdentityService]
    ) -> MessageResponse:
        """Mark the email verified (idempotent)."""
        await identity.confirm_verification(data.token)
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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Start turning on emailed-code MFA: a 6-digit code is emailed (valid 10 minutes)."""
        await identity.request_email_mfa(principal, data.password)
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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Turn on emailed-code MFA with the code from the email."""
        await identity.confirm_email_mfa(principal, data.code)
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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> MessageResponse:
        """Turn MFA off and discard the TOTP secret and recovery codes."""
        await identity.disable_mfa(principal, data.password)
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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> TotpSetupResponse:
        """Create a pending authenticator-app secret (valid 10 minutes) and its `otpauth://` URI."""
        setup = await identity.setup_totp(principal, data.password)
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
        identity: NamedDependency[IdentityService],
        principal: NamedDependency[Principal],
    ) -> RecoveryCodesResponse:
        """Turn on TOTP MFA with a current code; returns 10 single-use recovery codes, shown once."""
        return RecoveryCodesResponse(recovery_codes=await identity.confirm_totp(principal, data.code))

    @get("/me", operation_id="auth_me", guards=[authenticated], security=BEARER, responses=errors(401, 429))
    async def me(self, principal: NamedDependency[Principal]) -> UserResponse:
        """The signed-in user."""
        return UserResponse.of(principal.user)
