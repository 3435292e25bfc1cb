"""The most common passwords, from zxcvbn's ranked list (30,000 passwords seen in breaches), compared
without regard to case. Those shorter than the 8 characters a password needs anyway are left out."""

from __future__ import annotations

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8


class ZxcvbnCommonPasswords:
    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        self._common = frozenset(p for p in FREQUENCY_LISTS["passwords"] if len(p) >= min_length)

    def is_common(self, password: str) -> bool:
        return password.lower() in self._common
