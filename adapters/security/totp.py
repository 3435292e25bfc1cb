"""RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s, ±1 step) with pyotp."""

from __future__ import annotations

import hmac
from datetime import datetime
from urllib.parse import quote

import pyotp

PERIOD = 30
DIGITS = 6


class PyOtpTotp:
    def new_secret(self) -> str:
        return pyotp.random_base32(length=32)  # 160 bits

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
        return (
            f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
            f"&algorithm=SHA1&digits={DIGITS}&period={PERIOD}"
        )

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        if len(code) != DIGITS or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
        current = int(at.timestamp()) // PERIOD
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None
