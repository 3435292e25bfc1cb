"""No secrets in logs (API §7.15): the sign-in flows, logged at DEBUG, and an email job that fails,
leave no token, code, password or secret in any log line (the console mailer, which is the one
deliberate exception, is not used here)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pyotp
import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_mfa import enable_email_mfa
from tests.support.api import PASSWORD, Api
from tests.support.smtp import SmtpSink, smtp_sink


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the message with its arguments, and any traceback


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def logs() -> Iterator[Captured]:
    handler = Captured()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    yield handler
    root.removeHandler(handler)


def attach(handler: Captured) -> None:
    """After the app set up logging (which replaces the root's handlers)."""
    logging.getLogger().addHandler(handler)


async def secrets_of_the_sign_in_flows(api: Api) -> set[str]:
    found: set[str] = {PASSWORD}
    s = await api.register()
    found |= {s.access, s.refresh}
    verify = await api.mailbox.wait_for(s.email, "Verify your email address")
    found.add(verify.token())
    assert (
        await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": verify.token()})
    ).status_code == 200
    await api.client.post("/api/v1/auth/forgot-password", json={"email": s.email})
    reset = await api.mailbox.wait_for(s.email, "Reset your password")
    found |= {reset.token(), "fresh-secret-phrase-19"}
    r = await api.client.post(
        "/api/v1/auth/reset-password", json={"token": reset.token(), "new_password": "fresh-secret-phrase-19"}
    )
    assert r.status_code == 200
    s = await api.login(s.email, "fresh-secret-phrase-19")
    found |= {s.access, s.refresh}
    s.password = PASSWORD  # enable_email_mfa confirms with the suite's password
    await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": "fresh-secret-phrase-19", "new_password": PASSWORD},
        headers=s.headers,
    )
    await enable_email_mfa(api, s)
    found.add((await api.mailbox.wait_for(s.email, "Your MFA setup code")).code())
    challenge = (await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})).json()
    found.add(challenge["challenge_token"])
    code = (await api.mailbox.wait_for(s.email, "Your sign-in code")).code()
    found.add(code)
    r = await api.client.post(
        "/api/v1/auth/login/mfa", json={"challenge_token": challenge["challenge_token"], "code": code}
    )
    tokens = r.json()["tokens"]
    found |= {tokens["access_token"], tokens["refresh_token"]}
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    rotated = r.json()["tokens"]
    found |= {rotated["access_token"], rotated["refresh_token"]}
    other = await api.register()
    setup = (
        await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=other.headers)
    ).json()
    totp_code = pyotp.TOTP(setup["secret"]).now()
    confirmed = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": totp_code}, headers=other.headers)
    found |= {setup["secret"], totp_code, *confirmed.json()["recovery_codes"]}
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    await api.client.post("/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}, headers=bearer)
    assert (await api.client.get("/api/v1/users/me", headers=bearer)).status_code == 401  # a revoked token, logged?
    return found


async def test_the_sign_in_flows_log_no_secret(make_api: MakeApiFn, logs: Captured) -> None:
    api = await make_api(LMS_LOG_LEVEL="DEBUG")
    attach(logs)
    secrets = await secrets_of_the_sign_in_flows(api)
    assert logs.lines, "nothing was logged: the scan would prove nothing"
    leaked = {secret for secret in secrets for line in logs.lines if secret in line}
    assert not leaked, leaked


async def test_a_failed_email_job_logs_its_name_not_its_arguments(
    sink: SmtpSink, logs: Captured, make_api: MakeApiFn
) -> None:
    """The reset link is in the job's arguments: SAQ logged the whole job when it failed."""
    sink.refuse()
    api = await make_api(
        LMS_LOG_LEVEL="DEBUG",
        **sink.settings(),
    )
    attach(logs)
    s = await api.register()
    await api.client.post("/api/v1/auth/forgot-password", json={"email": s.email})
    for _ in range(200):  # the first attempts of the three emails fail at the server
        failures = [line for line in logs.lines if "send_email" in line and "fail" in line.lower()]
        if len(sink.refused) >= 3 and failures:
            break
        await asyncio.sleep(0.05)
    reset = next(raw for raw in sink.refused if b"Reset your password" in raw)
    token = re.search(rb"token=([A-Za-z0-9._-]+)", reset)
    assert token is not None
    assert failures, logs.lines  # the failure is logged, by the job's name
    assert not [line for line in logs.lines if token.group(1).decode() in line or s.email in line]
    # The retries now go through (the sink, set up first, outlives the app): the app's teardown
    # need not wait them out.
    sink.refusing = False
